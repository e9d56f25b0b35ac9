#include <doctest.h>

#include "core/event.h"
#include "core/json.h"
#include "core/strings.h"

using namespace bifrost::core;

TEST_CASE("field paths reach nested fields and the event's own members") {
  Arena arena;
  Event e;
  e.message = "m";
  e.timestamp_ns = 7;
  auto p = *FieldPath::parse("http.request.method");
  CHECK(set_field(e, p, Value::string("GET"), arena));
  CHECK(get_field(e, p)->as_string() == "GET");
  CHECK(get_field(e, *FieldPath::parse("message"))->as_string() == "m");
  CHECK(get_field(e, *FieldPath::parse("@timestamp"))->as_int() == 7);
  CHECK_FALSE(get_field(e, *FieldPath::parse("http.nope")));
  CHECK(remove_field(e, p, arena));
  CHECK_FALSE(get_field(e, p));
  CHECK(get_field(e, *FieldPath::parse("http.request"))->is_object());
  CHECK_FALSE(FieldPath::parse("a..b"));
  CHECK_FALSE(FieldPath::parse(""));
}

TEST_CASE("setting through a non-object replaces it with an object") {
  Arena arena;
  Event e;
  set_field(e, *FieldPath::parse("a"), Value::integer(1), arena);
  set_field(e, *FieldPath::parse("a.b"), Value::integer(2), arena);
  CHECK(get_field(e, *FieldPath::parse("a.b"))->as_int() == 2);
}

TEST_CASE("tags are added once") {
  Arena arena;
  Event e;
  add_tag(e, "x", arena);
  add_tag(e, "x", arena);
  add_tag(e, "y", arena);
  CHECK(get_field(e, *FieldPath::parse("tags"))->items().size() == 2);
}

TEST_CASE("objects grow past their capacity and keep insertion order") {
  Arena arena;
  Value o = Value::object(arena, 1);
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.push_back("k" + std::to_string(i));
  for (int i = 0; i < 100; ++i) o.set(keys[i], Value::integer(i), arena);
  REQUIRE(o.members().size() == 100);
  CHECK(o.members()[57].key == "k57");
  CHECK(o.find("k99")->as_int() == 99);
  CHECK(o.erase("k0", arena));
  CHECK(o.members()[0].key == "k1");
}

TEST_CASE("an object builder appends new keys and replaces the ones already there, colliding or not") {
  Arena arena;
  Value o = Value::object(arena, 1);
  o.append("host", Value::integer(1), arena);
  ObjectBuilder b(o, arena, 300);
  b.set("host", Value::integer(2));  // was there before the builder
  // 300 keys: far more than the 64-bit summary has bits, so most collide.
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) keys.push_back("k" + std::to_string(i));
  for (int i = 0; i < 300; ++i) b.set(keys[i], Value::integer(i));
  for (int i = 0; i < 300; i += 7) b.set(keys[i], Value::integer(-i));  // set again: replaced
  REQUIRE(o.members().size() == 301);
  CHECK(o.find("host")->as_int() == 2);
  for (int i = 0; i < 300; ++i) CHECK(o.find(keys[i])->as_int() == (i % 7 == 0 ? -i : i));
  CHECK(o.members()[1].key == "k0");  // insertion order kept
}

namespace {
std::string json_of(const Value& v) {
  std::string out;
  append_json_value(out, v);
  return out;
}
}  // namespace

TEST_CASE("a tag never replaces a `tags` that is not an array: it goes to `_tags`") {
  Arena arena;
  Event e;
  Value point_tags = Value::object(arena, 1);
  point_tags.append("host", Value::string("a"), arena);
  set_field(e, *FieldPath::parse("tags"), point_tags, arena);
  add_tag(e, "x", arena);
  add_tag(e, "x", arena);
  CHECK(json_of(e.fields) == R"({"tags":{"host":"a"},"_tags":["x"]})");
}

TEST_CASE("unsigned integers are exact ints up to INT64_MAX and exact digits above, flagged either way") {
  Arena arena;
  Value small = Value::unsigned_integer(42, arena);
  CHECK(small.kind() == Value::Kind::kInt);
  CHECK(small.as_int() == 42);
  CHECK(small.is_unsigned());
  Value edge = Value::unsigned_integer(static_cast<std::uint64_t>(INT64_MAX), arena);
  CHECK((edge.kind() == Value::Kind::kInt && edge.as_int() == INT64_MAX));
  Value large = Value::unsigned_integer(static_cast<std::uint64_t>(INT64_MAX) + 1, arena);
  CHECK(large.is_string());
  CHECK(large.as_string() == "9223372036854775808");
  CHECK(large.is_unsigned());
  CHECK(clone(large, arena).is_unsigned());
  CHECK_FALSE(Value::integer(42).is_unsigned());
  CHECK_FALSE(Value::string("42").is_unsigned());
  CHECK(json_of(small) == "42");  // JSON has no unsigned type
  CHECK(json_of(large) == "\"9223372036854775808\"");
}

TEST_CASE("a frozen object is shared by many events and copied by whichever of them changes it") {
  Arena arena;
  // {"name":"h","ip":{"v4":"10.0.0.1"}} shared by three events, frozen deep.
  Value host = Value::object(arena, 2);
  host.append("name", Value::string("h"), arena);
  Value ip = Value::object(arena, 1);
  ip.append("v4", Value::string("10.0.0.1"), arena);
  host.append("ip", ip, arena);
  const Value shared = host.freeze(arena);
  REQUIRE(shared.shared());
  REQUIRE(shared.find("ip")->shared());
  CHECK(shared.frozen_json() == R"({"name":"h","ip":{"v4":"10.0.0.1"}})");
  CHECK(json_of(shared) == json_of(host));  // the encoder writes the frozen JSON

  Event e[5];
  for (Event& ev : e) {
    ev.fields = Value::object(arena, 2);
    ev.fields.append("host", shared, arena);
  }
  // Every way of changing a field: each changes its own event only.
  CHECK(set_field(e[0], *FieldPath::parse("host.name"), Value::string("x"), arena));
  CHECK(set_field(e[1], *FieldPath::parse("host.ip.v6"), Value::string("::1"), arena));
  CHECK(remove_field(e[2], *FieldPath::parse("host.ip.v4"), arena));
  {
    Value* h = e[3].fields.find("host");
    ObjectBuilder b(*h, arena, 0);
    b.set("name", Value::string("y"));
  }
  e[4].fields.find("host")->own(arena);
  e[4].fields.find("host")->erase("name", arena);

  CHECK(json_of(e[0].fields) == R"({"host":{"name":"x","ip":{"v4":"10.0.0.1"}}})");
  CHECK(json_of(e[1].fields) == R"({"host":{"name":"h","ip":{"v4":"10.0.0.1","v6":"::1"}}})");
  CHECK(json_of(e[2].fields) == R"({"host":{"name":"h","ip":{}}})");
  CHECK(json_of(e[3].fields) == R"({"host":{"name":"y","ip":{"v4":"10.0.0.1"}}})");
  CHECK(json_of(e[4].fields) == R"({"host":{"ip":{"v4":"10.0.0.1"}}})");
  // The shared object itself never changed: not its members, not its JSON.
  CHECK(shared.find("name")->as_string() == "h");
  CHECK(shared.find("ip")->members().size() == 1);
  CHECK(shared.frozen_json() == R"({"name":"h","ip":{"v4":"10.0.0.1"}})");
  // A copied object is the event's own again, and encoded member by member.
  CHECK_FALSE(e[0].fields.find("host")->shared());
}

TEST_CASE("a frozen array and frozen fields grow by copying") {
  Arena arena;
  Value tags = Value::array(arena, 2);
  tags.push_back(Value::string("a"), arena);
  const Value shared = tags.freeze(arena);
  Event a, b;
  a.fields = Value::object(arena, 1);
  a.fields.append("tags", shared, arena);
  b.fields = a.fields.freeze(arena);  // the whole fields object shared
  add_tag(a, "x", arena);
  add_tag(b, "y", arena);
  CHECK(json_of(a.fields) == R"({"tags":["a","x"]})");
  CHECK(json_of(b.fields) == R"({"tags":["a","y"]})");
  CHECK(json_of(shared) == R"(["a"])");
  Value empty = Value::object(arena, 1).freeze(arena);  // nothing shared: grows like any object
  empty.append("k", Value::integer(1), arena);
  CHECK(json_of(empty) == R"({"k":1})");
  CHECK_FALSE(Value::string("text").shared());  // strings are never "shared" storage
  CHECK(Value::string("text").freeze(arena).as_string() == "text");
}

TEST_CASE("durations and sizes parse with units") {
  std::int64_t ns;
  CHECK(parse_duration_ns("250ms", ns));
  CHECK(ns == 250'000'000);
  CHECK(parse_duration_ns("2m", ns));
  CHECK(ns == 120'000'000'000);
  CHECK_FALSE(parse_duration_ns("2 parsecs", ns));
  std::uint64_t b;
  CHECK(parse_bytes("64KiB", b));
  CHECK(b == 65536);
  CHECK(parse_bytes("10MB", b));
  CHECK(b == 10'000'000);
  CHECK_FALSE(parse_bytes("lots", b));
  CHECK(closest("hostz", {"hosts", "index"}) == "hosts");
  CHECK(closest("zzzzzz", {"hosts"}).empty());
  CHECK(closest("integer", {"float", "int", "bool"}) == "int");
  CHECK(closest("str", {"int", "string"}) == "string");
  CHECK(closest("in", {"int", "input"}) == "int");  // distance 1 first
}

TEST_CASE("reject_reason marks a drop as a rejection, interned") {
  const char* r = bifrost::core::reject_reason("regex_mismatch");
  CHECK(std::string_view(r) == "!regex_mismatch");
  CHECK(bifrost::core::reject_reason("regex_mismatch") == r);  // the same pointer: counted by pointer
  bifrost::core::Event e;
  CHECK_FALSE(bifrost::core::is_rejected(e));
  e.drop_reason = "condition";
  CHECK_FALSE(bifrost::core::is_rejected(e));
  e.drop_reason = r;
  CHECK(bifrost::core::is_rejected(e));
  CHECK(e.dropped());  // not delivered either
}
