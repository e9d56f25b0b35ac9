// What the influxdb output writes, parse_influx reads back to the same
// point: generated hostile names, tags and strings, both halves of the
// grammar (common/influx/writer.h, reader.h).
#include <doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/influx/reader.h"
#include "common/influx/writer.h"
#include "core/json.h"

using namespace bifrost;
using namespace bifrost::common::influx;

namespace {

// Pieces that each mean something to line protocol, and some that do not.
const std::vector<std::string> kPieces = {",",   " ",    "=",   "\"", "\\", "\\\\", "\n", "\t", "\r",
                                          "#",   "'",    "a",   "Z",  "0",  "é",    "한", "🚀",  "\\,",
                                          "\\=", "\\\"", "\\ ", "i",  "u",  "t",    "-",  ".",  "e"};

std::string hostile(std::mt19937_64& rng, std::size_t max_pieces) {
  std::string s;
  const std::size_t n = 1 + rng() % max_pieces;
  for (std::size_t i = 0; i < n; ++i) s += kPieces[rng() % kPieces.size()];
  return s;
}

// What a name is read back as: a newline is written as `\n`, the one
// change the grammar makes (it cannot hold a newline in a name).
std::string as_read(std::string s) {
  for (std::size_t i = 0; (i = s.find('\n', i)) != std::string::npos; i += 2) s.replace(i, 1, "\\n");
  return s;
}

std::string json(const core::Value& v) {
  std::string out;
  core::append_json_value(out, v);
  return out;
}

}  // namespace

TEST_CASE("influx round trip: hostile measurements, tags, field keys and strings come back the same") {
  std::mt19937_64 rng(20240527);
  core::Arena arena;
  std::string line, scratch;
  int written = 0, refused = 0;
  for (int round = 0; round < 20'000; ++round) {
    std::vector<std::string> keep;  // the generated text, alive while the point is
    keep.reserve(16);
    Point p;
    p.measurement = keep.emplace_back(hostile(rng, 6));
    p.tags = core::Value::object(arena, 3);
    core::Value want_tags = core::Value::object(arena, 3);
    for (int t = 0, n = static_cast<int>(rng() % 4); t < n; ++t) {
      const std::string& k = keep.emplace_back(hostile(rng, 4) + std::to_string(t));  // distinct keys
      const std::string& v = keep.emplace_back(hostile(rng, 5));
      p.tags.append(k, core::Value::string(v), arena);
      want_tags.append(arena.copy(as_read(k)), core::Value::string(arena.copy(as_read(v))), arena);
    }
    p.fields = core::Value::object(arena, 6);
    core::Value want_fields = core::Value::object(arena, 6);
    auto add = [&](const std::string& key, core::Value v) {
      p.fields.append(key, v, arena);
      want_fields.append(arena.copy(as_read(key)), v, arena);
    };
    add(keep.emplace_back(hostile(rng, 4) + "s"), core::Value::string(keep.emplace_back(hostile(rng, 12))));
    add(keep.emplace_back(hostile(rng, 3) + "i"), core::Value::integer(static_cast<std::int64_t>(rng())));
    add(keep.emplace_back(hostile(rng, 3) + "u"), core::Value::unsigned_integer(rng(), arena));
    add(keep.emplace_back(hostile(rng, 3) + "f"),
        core::Value::number(
            std::ldexp(static_cast<double>(rng() % 1'000'000) - 500'000, static_cast<int>(rng() % 80) - 40)));
    add(keep.emplace_back(hostile(rng, 3) + "b"), core::Value::boolean(rng() % 2));
    p.time_ns = static_cast<std::int64_t>(rng() >> 1) * (rng() % 2 ? 1 : -1);

    line.clear();
    auto wrote = append_point(line, p, Precision::kNs, scratch);
    if (!wrote) {
      // Only what line protocol cannot hold is refused, with that reason.
      const std::string& why = wrote.error().message;
      const char first = p.measurement.front();
      bool ends_in_backslash = p.measurement.back() == '\\';
      for (const core::Member& m : p.tags.members())
        ends_in_backslash |= m.key.back() == '\\' || m.value.as_string().back() == '\\';
      bool all_tabbed = true;
      for (const core::Member& m : p.fields.members()) {
        ends_in_backslash |= m.key.back() == '\\';
        all_tabbed &= m.key.front() == '\t';
      }
      ends_in_backslash |= all_tabbed;  // InfluxDB would skip the tab before the first
      CHECK_MESSAGE((ends_in_backslash || first == '#' || first == '\t' || first == '\r'), why);
      CHECK(line.empty());
      ++refused;
      continue;
    }
    ++written;
    CAPTURE(line);
    Reader reader(line, Precision::kNs, arena);
    auto got = reader.next();
    REQUIRE(got);
    REQUIRE_MESSAGE(got->point, got->point.error().message);
    CHECK(got->point->measurement == as_read(std::string(p.measurement)));
    CHECK(json(got->point->tags) == json(want_tags));
    // Fields come back in the order written (a key starting with a tab is
    // not written first): compared by key.
    CHECK(got->point->fields.members().size() == want_fields.members().size());
    for (const core::Member& m : want_fields.members()) {
      CAPTURE(m.key);
      const core::Value* v = got->point->fields.find(m.key);
      REQUIRE(v);
      CHECK(json(*v) == json(m.value));
      CHECK(v->kind() == m.value.kind());
      CHECK(v->is_unsigned() == m.value.is_unsigned());
    }
    CHECK(got->point->time_ns == p.time_ns);
    CHECK_FALSE(reader.next());
  }
  MESSAGE(written, " points written and read back, ", refused, " refused (a name ending in a backslash...)");
  CHECK(written > 10'000);
}
