// The one-pass matcher of parse_regex against RE2 itself: for the patterns
// it accepts, on many mutated lines, the same answer and the same captures.
#include <doctest.h>
#include <re2/re2.h>

#include <random>
#include <string>
#include <vector>

#include "filters/parse_regex/linear_pattern.h"
#include "filters/parse_regex/syntax.h"

using bifrost::filters::parse_regex::LinearPattern;
using bifrost::filters::parse_regex::re2_syntax;

namespace {

const char* const kNginx =
    R"re(^(?P<client>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+) (?P<protocol>[^"]+)" (?P<status>\d{3}) (?P<bytes>\d+|-) "(?P<referer>[^"]*)" "(?P<agent>[^"]*)")re";

std::string mutate(std::string s, std::mt19937& rng) {
  static const std::vector<std::string> pieces = {" ",  "\"", "-",    "[",    "]",   "1",  "42", "x", "GET", "\n", "\v",
                                                  "\t", "é",  "\xff", "\xc3", "a b", "  ", "=",  "&", ":",   "."};
  int ops = static_cast<int>(rng() % 4);
  for (int k = 0; k < ops; ++k) {
    std::size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 3) {
      case 0: s.insert(at, pieces[rng() % pieces.size()]); break;
      case 1:
        if (at < s.size()) s.erase(at, 1 + rng() % 3);
        break;
      default:
        if (at < s.size()) s[at] = pieces[rng() % pieces.size()][0];
    }
  }
  return s;
}

// Compares the fast matcher with RE2 on `text`; true when the fast one decided.
bool same_as_re2(const LinearPattern& fast, const re2::RE2& re, const std::string& text) {
  const int n = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> want(static_cast<std::size_t>(n)), got(static_cast<std::size_t>(n));
  bool re2_match = re.Match(text, 0, text.size(), re2::RE2::UNANCHORED, want.data(), n);
  auto r = fast.match(text, got.data(), n);
  if (r == LinearPattern::Result::kUndecided) return false;
  INFO("pattern: ", re.pattern(), "\ntext: ", text);
  REQUIRE((r == LinearPattern::Result::kMatch) == re2_match);
  if (!re2_match) return true;
  for (int k = 0; k < n; ++k) {
    INFO("group ", k);
    CHECK((got[k].data() == nullptr) == (want[k].data() == nullptr));
    if (want[k].data() == nullptr) continue;
    CHECK(got[k].data() - text.data() == want[k].data() - text.data());
    CHECK(got[k].size() == want[k].size());
  }
  return true;
}

}  // namespace

TEST_CASE("linear pattern: takes the patterns that never backtrack, leaves the rest to RE2") {
  for (
      const char* p :
      {kNginx,
       // config/examples/quickstart.yaml's
       R"~(^(?P<client>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+) (?P<protocol>[^"]+)" (?P<status>\d{3}) (?P<bytes>\d+|-))~",
       R"~(^(?P<a>\d+|-) (?P<b>[^"]*)"$)~", R"~(^(\w+)=(?P<v>[^&]*))~", R"~(^(?P<x>[a-f0-9]{8})-(?P<y>\d{1,3})\b?)~",
       R"~(^\[(?P<t>[^\]]+)\]\s+(?P<l>[A-Z]+))~", R"~(^(?:GET|POST|DELETE) (?P<p>\S+))~",
       R"~(^(?P<k>[^:]+): (?P<rest>.*)$)~"}) {
    INFO(std::string(p));
    bool is_linear = std::string_view(p).find("\\b") == std::string_view::npos;
    CHECK(LinearPattern::compile(p).has_value() == is_linear);
  }
  for (const char* p : {R"~(^\[(?P<time>[^\]]+)\] (?P<content>.*?)\s*$)~",      // lazy
                        R"~(^(?P<path>\S+)[^"]*" (?P<s>\d{3}))~",               // \S+ may give back to [^"]*
                        R"~((?P<a>\d+) x)~",                                    // unanchored
                        R"~(^(?P<a>x|))~", R"~(^(?P<a>ab)?c)~", R"~(^(?i)x)~",  // empty branch, ?, flags
                        R"~(^(?P<a>\d+|\d\.))~", R"~(^a{2,}a)~", R"~(^(?P<a>\S+)\s*(?P<b>\S+)$)~"}) {
    INFO(std::string(p));
    CHECK_FALSE(LinearPattern::compile(p).has_value());
  }
}

TEST_CASE("linear pattern: the same matches and captures as RE2 on mutated lines") {
  struct Case {
    const char* pattern;
    std::vector<std::string> seeds;
  };
  const std::vector<Case> cases = {
      {kNginx,
       {R"~(10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://x/" "Mozilla/4.08")~",
        R"~(::1 - - [01/Jan/2024:00:00:01 +0000] "POST /api/v1/orders?id=3 HTTP/1.1" 404 - "-" "curl/8.0")~"}},
      {R"~(^(?P<a>\d+|-) (?P<b>[^"]*)"$)~", {R"~(123 abc")~", R"~(- "")~", R"~(7 a"b")~"}},
      {R"~(^(\w+)=(?P<v>[^&]*)(?:&(?P<w>\w+))?)~", {"key=value&x", "a=&b"}},
      {R"~(^(\w+)=(?P<v>[^&]*))~", {"key=value&x", "a=&b", "=x"}},
      {R"~(^(?P<x>[a-f0-9]{8})-(?P<y>\d{1,3}))~", {"deadbeef-12", "deadbeef-1234", "0123456-1"}},
      {R"~(^\[(?P<t>[^\]]+)\]\s+(?P<l>[A-Z]+):? (?P<m>.*)$)~",
       {"[Sun Dec 04 04:47:44 2005] ERROR: boom", "[x]\tWARN y"}},
      {R"~(^(?:GET|POST|DELETE) (?P<p>\S+)(?: (?P<proto>HTTP/\d\.\d))?)~", {"GET /a HTTP/1.1", "DELETE /", "POST  /x"}},
      {R"~(^(?P<k>[^:]+): (?P<rest>.*)$)~", {"host: example", "a:b: c", ": x"}},
      {R"~(^(?:GET|POST|DELETE) (?P<p>\S+) (?P<proto>HTTP/\d\.\d)$)~", {"GET /a HTTP/1.1", "DELETE /x HTTP/2.0"}},
      {R"~(^(?P<d>\d{6}) (?P<t>\d{6}) (?P<pid>\d+) (?P<level>[A-Z]+) (?P<c>[^:]+): (?P<m>.+))~",
       {"081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block"}},
  };
  std::mt19937 rng(20261121);
  for (const Case& c : cases) {
    re2::RE2 re(re2_syntax(c.pattern));  // as parse_regex gives it to RE2: \s with the vertical tab
    REQUIRE(re.ok());
    auto fast = LinearPattern::compile(c.pattern);
    const bool optional_group = std::string_view(c.pattern).find(")?") != std::string_view::npos;
    REQUIRE(fast.has_value() == !optional_group);  // a quantified group is RE2's
    if (!fast) continue;
    CHECK(fast->captures() == re.NumberOfCapturingGroups());
    int decided = 0, ascii = 0;
    for (int k = 0; k < 20'000; ++k) {
      std::string text = mutate(c.seeds[static_cast<std::size_t>(k) % c.seeds.size()], rng);
      bool is_ascii =
          std::all_of(text.begin(), text.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x80; });
      bool d = same_as_re2(*fast, re, text);
      decided += d;
      if (is_ascii) {
        ++ascii;
        CHECK(d);  // only non-ASCII bytes in a run are left to RE2
      }
    }
    CHECK(decided >= ascii);
  }
}
