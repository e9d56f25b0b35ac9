#include <doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/json.h"
#include "core/json_value.h"

using namespace bifrost;

namespace {

// The document as bifrost writes it, or "-" when it is not accepted. An
// object is also read member by member, from a copy and in place from a
// ByteBuffer (`padded`), which must agree.
std::string parsed(std::string_view text) {
  core::Arena arena;
  auto value = core::parse_json_value(text, arena);
  std::string whole = "-";
  if (value) {
    whole.clear();
    core::append_json_value(whole, *value);
  }
  core::ByteBuffer buf;
  buf.resize(text.size() + 1);  // allocated even for ""
  if (!text.empty()) std::memcpy(buf.data(), text.data(), text.size());
  std::memset(buf.data() + text.size(), '"', core::ByteBuffer::kSlack);  // readable, and anything
  for (bool padded : {false, true}) {
    std::vector<core::Member> members;
    const bool ok =
        core::parse_json_members(padded ? std::string_view(buf.data(), text.size()) : text, arena, padded, members);
    REQUIRE(ok == (value && value->is_object()));
    if (!ok) continue;
    core::Value object = core::Value::object(arena, 1);
    for (const core::Member& m : members) object.set(m.key, m.value, arena);
    std::string each;
    core::append_json_value(each, object);
    REQUIRE(each == whole);
  }
  return whole;
}

}  // namespace

TEST_CASE("JSON values: what is read, and the same documents the validating parser takes") {
  // Valid documents, as written back.
  const std::pair<std::string, std::string> valid[] = {
      {"{}", "{}"},
      {"[]", "[]"},
      {R"( { "a" : 1 , "b" : [ 1 , 2.5 , "x" ] , "c" : { } } )", R"({"a":1,"b":[1,2.5,"x"],"c":{}})"},
      {R"("str")", R"("str")"},
      {"42", "42"},
      {"-1.5e3", "-1500.0"},
      {"true", "true"},
      {"null", "null"},
      {R"({"a":"x\"y\\z\/\u00e9\ud83d\ude00\n"})", "{\"a\":\"x\\\"y\\\\z/\xC3\xA9\xF0\x9F\x98\x80\\n\"}"},
      {"{\"\xC3\xA9\":\"\xC3\xBC\"}", "{\"\xC3\xA9\":\"\xC3\xBC\"}"},
      {R"({"k\"ey":1,"plain":"v"})", R"({"k\"ey":1,"plain":"v"})"},
      {R"({"a":-9223372036854775808,"b":9223372036854775807})",
       R"({"a":-9223372036854775808,"b":9223372036854775807})"},
      {R"({"u":18446744073709551615})", R"({"u":18446744073709551616.0})"},  // over int64: a double
      {R"({"a":1,"a":2})", R"({"a":2})"},                                    // the last one wins
      {R"({"a":[[],[{}],{"b":null}]})", R"({"a":[[],[{}],{"b":null}]})"},
      {R"({"long":")" + std::string(200, 'x') + R"("})", R"({"long":")" + std::string(200, 'x') + R"("})"},
      {std::string(1024, '[') + std::string(1024, ']'), std::string(1024, '[') + std::string(1024, ']')},
  };
  for (const auto& [text, want] : valid) {
    CAPTURE(text);
    CHECK(core::is_json(text));
    CHECK(parsed(text) == want);
  }
  // Invalid ones: every one refused, as the validating (DOM) parser refuses
  // it.
  const std::string invalid[] = {
      "",
      "   ",
      "{",
      "}",
      "[",
      "{\"a\":1,}",
      "{\"a\":1 \"b\":2}",
      "{\"a\" 1}",
      "{\"a\":1}}",
      "{\"a\":1} x",
      "{\"a\":1",
      "[1,2",
      "[1,]",
      "[,1]",
      "{\"a\":tru}",
      "{\"a\":truex}",
      "{\"a\":nul}",
      "{\"a\":nulll}",
      "{\"a\":fals}",
      "{\"a\":01}",
      "{\"a\":1.}",
      "{\"a\":-}",
      "{\"a\":.5}",
      "{\"a\":\"x\\q\"}",
      "{\"a\":\"\\u12\"}",
      "{\"a\":\"tab\there\"}",
      "{\"a\":\"\xFF\"}",
      "{\"\xC0\x80\":1}",
      "{a:1}",
      "{'a':1}",
      "\"abc",
      "{\"a\":\"abc}",
      "{\"a\":[1,{\"b\":}]}",
      "{\"a\":1}{\"b\":2}",
      "123abc",
      "[1] [2]",
      "{\"a\":1e400}",
      "{\"a\":18446744073709551616}",
      "{\"a\":1,,\"b\":2}",
      "{,}",
      "{\"a\"}",
      "{\"a\":}",
      "{\"a\":1 ,}",
      "nul",
      "truee",
      "-",
      "\"\\\"",
      std::string(1025, '[') + std::string(1025, ']'),  // deeper than the parsers go
      std::string(1024, '[') + "{}" + std::string(1024, ']'),
      std::string(100000, '['),
  };
  for (const auto& text : invalid) {
    CAPTURE(text);
    CHECK_FALSE(core::is_json(text));
    CHECK(parsed(text) == "-");
  }
}

TEST_CASE("JSON values: strings outlive the parser's buffers, which the next document reuses") {
  core::Arena arena;
  const std::string first = R"({"plain":"abc","esc\"":"a\nb","n":{"deep":"d","list":["x","",{"y":"z"}]},"e":""})";
  std::vector<core::Member> members;
  REQUIRE(core::parse_json_members(first, arena, false, members));
  auto value = core::parse_json_value(first, arena);
  REQUIRE(value);
  // The parser's buffers now hold another document, with strings as long.
  std::vector<core::Member> other;
  REQUIRE(core::parse_json_members(
      R"({"PLAIN":"ABC","ESC\"":"A\nB","N":{"DEEP":"D","LIST":["X","",{"Y":"Z"}]},"E":""})", arena, false, other));
  REQUIRE(core::parse_json_value(R"(["QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"])", arena));
  core::Value object = core::Value::object(arena, 1);
  for (const core::Member& m : members) object.set(m.key, m.value, arena);
  const std::string want = R"({"plain":"abc","esc\"":"a\nb","n":{"deep":"d","list":["x","",{"y":"z"}]},"e":""})";
  std::string got;
  core::append_json_value(got, object);
  CHECK(got == want);
  got.clear();
  core::append_json_value(got, *value);
  CHECK(got == want);
  // Not an object, or not JSON: false and nothing.
  CHECK_FALSE(core::parse_json_members("[1]", arena, false, members));
  CHECK(members.empty());
  CHECK_FALSE(core::parse_json_members(R"({"a":1,"b":})", arena, false, members));
  CHECK(members.empty());
}
