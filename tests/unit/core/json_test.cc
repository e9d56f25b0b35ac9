#include <doctest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/json.h"

using namespace bifrost::core;

namespace {
std::string esc(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}
}  // namespace

TEST_CASE("json strings escape quotes, backslashes and control characters") {
  CHECK(esc("a\"b\\c") == R"("a\"b\\c")");
  CHECK(esc("tab\tnl\ncr\r") == R"("tab\tnl\ncr\r")");
  CHECK(esc(std::string("nul\0x", 5)) == R"("nul\u0000x")");
  CHECK(esc("\x01\x1f") == R"("\u0001\u001f")");
}

TEST_CASE("json strings keep valid UTF-8 and replace each invalid byte with U+FFFD") {
  CHECK(esc("한국어 ünïcode 😀") == "\"한국어 ünïcode 😀\"");
  CHECK(esc("bad \xff byte") == "\"bad \xEF\xBF\xBD byte\"");
  CHECK(esc("\xC0\x80") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");                  // overlong NUL
  CHECK(esc("\xED\xA0\x80") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
  CHECK(esc("cut \xE2\x82") == "\"cut \xEF\xBF\xBD\xEF\xBF\xBD\"");          // truncated sequence
  CHECK(is_valid_utf8("한국어"));
  CHECK_FALSE(is_valid_utf8("\xff"));
}

TEST_CASE("json escaping of a long multibyte string is exact across internal segments") {
  // 3-byte characters make segment boundaries fall inside sequences.
  std::string s;
  while (s.size() < 1'000'000) s += "한\"";
  std::string out = esc(s);
  std::string expected = "\"";
  for (std::size_t i = 0; i < s.size(); i += 4) expected += "한\\\"";
  expected += "\"";
  CHECK(out == expected);
}

TEST_CASE("json values: integers, doubles stay doubles, non-finite becomes null") {
  Arena arena;
  std::string out;
  append_json_value(out, Value::integer(-42));
  out += ' ';
  append_json_value(out, Value::number(3.0));
  out += ' ';
  append_json_value(out, Value::number(0.1));
  out += ' ';
  append_json_value(out, Value::number(1.0 / 0.0));
  CHECK(out == "-42 3.0 0.1 null");
  Value obj = Value::object(arena, 1);
  Value arr = Value::array(arena, 1);
  arr.push_back(Value::boolean(true), arena);
  arr.push_back(Value(), arena);
  obj.set("a", arr, arena);
  out.clear();
  append_json_value(out, obj);
  CHECK(out == R"({"a":[true,null]})");
}

TEST_CASE("a double is written as std::to_chars writes it (plus .0 for a whole number), whichever path") {
  // Doubles take a fast path for the usual few-decimal values; every output
  // must still be exactly what std::to_chars gives: the shortest form that
  // reads back, fixed unless scientific is shorter.
  auto expected = [](double x) {
    char buf[64];
    char* end = std::to_chars(buf, buf + sizeof buf, x).ptr;
    std::string s(buf, end);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
  };
  auto written = [](double x) {
    std::string out;
    append_json_value(out, Value::number(x));
    return out;
  };
  std::vector<double> values = {0.25,
                                -0.25,
                                0.1,
                                0.2,
                                0.3,
                                0.1 + 0.2,
                                1e-6,
                                1.5e-6,
                                1e-5,
                                0.001,
                                0.0025,
                                0.015625,
                                123.456,
                                -99.5,
                                5000.0,
                                5e10,
                                1e15,
                                999999999999999.0,
                                123456789012345.6,
                                0.000123,
                                12345.678901,
                                1e14 + 0.5,
                                7.0,
                                10.0,
                                100.0,
                                0.5,
                                4.35,
                                2.675,
                                1.005,
                                9007199254740993.0,
                                1e-7,
                                3.14159265358979};
  std::uint64_t seed = 42;
  auto next = [&] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return seed >> 11;
  };
  static constexpr double kPow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
  for (int i = 0; i < 200000; ++i) {
    // decimals as logs carry them: an integer of up to 16 digits over 10^k
    const std::uint64_t m = next() % (std::uint64_t{1} << (1 + next() % 53));
    values.push_back(static_cast<double>(m) / kPow10[next() % 9] * (next() % 2 ? 1 : -1));
    std::uint64_t bits = next() << 11 | next() % 2048;  // and any double at all
    double any;
    std::memcpy(&any, &bits, sizeof any);
    if (std::isfinite(any)) values.push_back(any);
  }
  for (double x : values) {
    CAPTURE(x);
    REQUIRE(written(x) == expected(x));
  }
}

TEST_CASE("an event encodes @timestamp in RFC 3339 with nanoseconds, then message and fields") {
  Arena arena;
  Event e;
  e.message = "hi";
  e.timestamp_ns = 1'700'000'000'123'456'789;
  set_field(e, *FieldPath::parse("http.status"), Value::integer(200), arena);
  std::string out;
  Rfc3339Cache cache;
  append_event_json(out, e, cache);
  CHECK(out == R"({"@timestamp":"2023-11-14T22:13:20.123456789Z","message":"hi","http":{"status":200}})");
}

TEST_CASE("json keys: escaped, empty, longer than a segment; empty and nested objects") {
  Arena arena;
  const std::string long_key = std::string(70'000, 'k') + "\"";  // past the 64 KiB escaped at once
  Value inner = Value::object(arena, 1);
  Value obj = Value::object(arena, 4);
  obj.set("", Value::integer(1), arena);
  obj.set("q\"\n", Value::object(arena, 1), arena);  // an empty object
  obj.set(long_key, Value::boolean(false), arena);
  inner.set("x", Value::string("y"), arena);
  obj.set("in", inner, arena);
  std::string out;
  append_json_value(out, obj);
  CHECK(out == R"({"":1,"q\"\n":{},")" + std::string(70'000, 'k') + R"(\"":false,"in":{"x":"y"}})");
  Event e;
  e.message = "m";
  e.fields = obj;
  out.clear();
  Rfc3339Cache cache;
  append_event_json(out, e, cache);
  CHECK(out == R"({"@timestamp":"1970-01-01T00:00:00.000000000Z","message":"m","":1,"q\"\n":{},")" +
                   std::string(70'000, 'k') + R"(\"":false,"in":{"x":"y"}})");
}

TEST_CASE("json escaping is exact for any mix of plain, escaped and multibyte bytes at any position") {
  // Strings built from pieces whose escaped form is known, so the whole
  // must be the escaped pieces end to end: every piece lands at every
  // offset of the 16-byte blocks and of the tail.
  struct Piece {
    std::string_view raw, escaped;
  };
  static constexpr Piece kPieces[] = {
      {"a", "a"},
      {"Z", "Z"},
      {" ", " "},
      {"/", "/"},
      {"\"", "\\\""},
      {"\\", "\\\\"},
      {"\n", "\\n"},
      {"\t", "\\t"},
      {"\x01", "\\u0001"},
      {"\x7f", "\x7f"},
      {"é", "é"},
      {"한", "한"},
      {"😀", "😀"},
      {"\xff", "\xEF\xBF\xBD"},
      {"\xE2\x82", "\xEF\xBF\xBD\xEF\xBF\xBD"},
  };
  // Each path the CPU has (AVX-512, SSSE3, portable); a faster one it has
  // not falls back to the next.
  for (const JsonEscape path : {JsonEscape::kAvx512, JsonEscape::kSsse3, JsonEscape::kPortable}) {
    limit_json_escape(path);
    const JsonEscape used = json_escape_in_use();
    CAPTURE(static_cast<int>(used));
    std::uint32_t seed = 12345;
    auto next = [&] {
      seed = seed * 1664525u + 1013904223u;
      return seed >> 8;
    };
    for (int round = 0; round < 20000; ++round) {
      std::string raw, expected = "\"";
      const std::size_t pieces = next() % 80;
      const std::size_t plain_bias = next() % 4;  // some strings mostly plain, some dense
      for (std::size_t k = 0; k < pieces; ++k) {
        const Piece& p = next() % 4 < plain_bias ? kPieces[next() % 2] : kPieces[next() % std::size(kPieces)];
        raw += p.raw;
        expected += p.escaped;
      }
      expected += "\"";
      REQUIRE(esc(raw) == expected);
    }
  }
  limit_json_escape(JsonEscape::kAvx512);
}
