#include <doctest.h>

#include <limits>
#include <string>

#include "common/influx/writer.h"

using namespace bifrost;
using namespace bifrost::common::influx;

namespace {
std::string measurement(std::string_view s) {
  std::string out;
  append_measurement(out, s);
  return out;
}
std::string key(std::string_view s) {
  std::string out;
  append_key(out, s);
  return out;
}
std::string field(const core::Value& v) {
  std::string out;
  CHECK(append_field_value(out, v));
  return out;
}
}  // namespace

TEST_CASE("line protocol: measurements escape commas and spaces; equals signs and quotes only after a backslash") {
  CHECK(measurement("cpu") == "cpu");
  CHECK(measurement("my cpu,1=x\"") == "my\\ cpu\\,1=x\"");
  CHECK(measurement("a\\=b\\\"c") == "a\\\\=b\\\\\"c");  // a\=b\"c: InfluxDB would take `\=`, `\"` as escapes
}

TEST_CASE("line protocol: tag keys, tag values and field keys escape commas, equals signs and spaces") {
  CHECK(key("a b,c=d") == "a\\ b\\,c\\=d");
  CHECK(key("한글 태그") == "한글\\ 태그");
  CHECK(key("quote\"back\\slash") == "quote\"back\\slash");  // no escape needed there
  CHECK(key("two\nlines\ttab") == "two\\nlines\ttab");       // a newline cannot appear raw: written as Telegraf does
  std::string out;
  append_field_key(out, "f\\\"k \"q\"");  // field keys: quotes escaped after a backslash only
  CHECK(out == "f\\\\\"k\\ \"q\"");
}

TEST_CASE("line protocol: field values by type") {
  CHECK(field(core::Value::integer(-42)) == "-42i");
  core::Arena arena;
  CHECK(field(core::Value::unsigned_integer(42, arena)) == "42u");
  CHECK(field(core::Value::unsigned_integer(UINT64_MAX, arena)) == "18446744073709551615u");
  CHECK(field(core::Value::number(1.5)) == "1.5");
  CHECK(field(core::Value::boolean(true)) == "true");
  CHECK(field(core::Value::string("he said \"hi\", ok \\")) == "\"he said \\\"hi\\\", ok \\\\\"");
  CHECK(field(core::Value::string("a\nb")) == "\"a\nb\"");  // kept: InfluxDB reads it back unchanged
  std::string out;
  CHECK_FALSE(append_field_value(out, core::Value()));
  CHECK_FALSE(append_field_value(out, core::Value::number(std::numeric_limits<double>::infinity())));
  CHECK(out.empty());
}
