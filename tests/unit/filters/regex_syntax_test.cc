// What a pattern may say and which engine runs it: the syntax users bring
// from other shippers, the engine rule (docs/filters.md#engines), and the
// limits under which a backtracking match runs (a line past them goes to
// RE2, or is a mismatch where only PCRE2 can run the pattern).
#include <doctest.h>

#include <map>
#include <string>
#include <vector>

#include "filters/parse_regex/compiled_pattern.h"
#include "filters/parse_regex/syntax.h"

using namespace bifrost::filters::parse_regex;
using Outcome = CompiledPattern::Outcome;

namespace {

std::unique_ptr<CompiledPattern> compile(const std::string& p, EngineChoice e = EngineChoice::kAuto) {
  std::string error;
  std::size_t offset = 0;
  auto cp = CompiledPattern::compile(p, e, error, offset);
  INFO(p, ": ", error);
  REQUIRE(cp);
  return cp;
}

// Name -> capture of a match, or nothing when it does not match.
std::optional<std::map<std::string, std::string>> run(const CompiledPattern& cp, std::string_view text,
                                                      CompiledPattern::Counts* counts_out = nullptr) {
  std::vector<re2::StringPiece> g(static_cast<std::size_t>(cp.groups() + 1));
  CompiledPattern::Counts counts;
  auto r = cp.match(text, g.data(), counts);
  if (counts_out) *counts_out = counts;
  if (r != Outcome::kMatch) return std::nullopt;
  std::map<std::string, std::string> out;
  for (const auto& [name, index] : cp.named_groups()) {
    const auto& s = g[static_cast<std::size_t>(index)];
    if (s.data() != nullptr) out[name] = std::string(s.data(), s.size());
  }
  return out;
}

std::string words(int n, std::string_view end) {
  std::string s;
  for (int k = 0; k < n; ++k) s += "word ";
  s += end;
  return s;
}

}  // namespace

TEST_CASE("syntax: named groups both ways, classes, lazy quantifiers, on every engine") {
  for (EngineChoice e : {EngineChoice::kAuto, EngineChoice::kPcre2, EngineChoice::kRe2}) {
    auto names = compile(R"(^(?<a>\d+)-(?P<b>\w+))", e);
    CHECK(*run(*names, "12-ab_c d") == std::map<std::string, std::string>{{"a", "12"}, {"b", "ab_c"}});
    // \s is Perl's everywhere: the vertical tab too (RE2's own \s has none).
    auto space = compile(R"(^(?<a>\S+)\s(?<b>\S+)$)", e);
    CHECK(*run(*space, "x\vy") == std::map<std::string, std::string>{{"a", "x"}, {"b", "y"}});
    CHECK_FALSE(run(*space, "x\xc2\xa0y"));  // a no-break space is not \s on any engine (ASCII classes)
    auto vt = compile(R"((?<a>a\vb))", e);   // \v is the vertical tab itself, as in RE2
    CHECK(run(*vt, "a\vb"));
    CHECK_FALSE(run(*vt, "a\nb"));
    auto lazy = compile(R"(^(?<a>.*?),(?<b>.*))", e);
    CHECK(*run(*lazy, "x,y,z") == std::map<std::string, std::string>{{"a", "x"}, {"b", "y,z"}});
    auto dollar = compile(R"((?<a>\w+)$)", e);  // $ is the very end, not before a final newline
    CHECK_FALSE(run(*dollar, "abc\n"));
    auto dot = compile(R"(^(?<a>.)(?<b>.))", e);  // . is a character, not a byte
    CHECK(*run(*dot, "\xc3\xa9x") == std::map<std::string, std::string>{{"a", "\xc3\xa9"}, {"b", "x"}});
  }
}

TEST_CASE("syntax: atomic groups, possessive quantifiers, lookarounds and backreferences run on PCRE2 alone") {
  auto atomic = compile(R"(^(?<a>(?>\d+))5)");
  CHECK_FALSE(run(*atomic, "12345"));  // the atomic group gives nothing back
  auto possessive = compile(R"(^(?<a>\d++)(?<b>x))");
  CHECK(*run(*possessive, "123x") == std::map<std::string, std::string>{{"a", "123"}, {"b", "x"}});
  CHECK_FALSE(run(*compile(R"(^(?<a>\d++)5)"), "12345"));
  auto ahead = compile(R"((?<user>\w+)(?=@))");
  CHECK(*run(*ahead, "mail to ann@example.com") == std::map<std::string, std::string>{{"user", "ann"}});
  auto behind = compile(R"((?<=@)(?<host>[\w.]+))");
  CHECK(*run(*behind, "ann@example.com") == std::map<std::string, std::string>{{"host", "example.com"}});
  auto not_ahead = compile(R"(\b(?<n>\d+)\b(?!%))");
  CHECK(*run(*not_ahead, "50% of 200") == std::map<std::string, std::string>{{"n", "200"}});
  auto backref = compile(R"((?<q>["'])(?<v>.*?)\k<q>)");
  CHECK(*run(*backref, R"(say 'it "is"' now)") == std::map<std::string, std::string>{{"q", "'"}, {"v", R"(it "is")"}});
  for (const CompiledPattern* cp : {atomic.get(), possessive.get(), ahead.get(), backref.get()}) {
    CHECK(cp->engine_name() == "pcre2-jit");
    CHECK(cp->describe().find("no re2") != std::string::npos);
  }
  std::string error;
  std::size_t offset = 0;
  CHECK_FALSE(CompiledPattern::compile(R"((?<=@)(?<host>\w+))", EngineChoice::kRe2, error, offset));
  CHECK(error.find("RE2 cannot compile it") != std::string::npos);
  CHECK(error.find("engine auto or pcre2") != std::string::npos);
  CHECK_FALSE(CompiledPattern::compile("(?<a>[x)", EngineChoice::kRe2, error, offset));
  CHECK(error == "missing ]: [x)");  // a typo is RE2's own error
}

TEST_CASE("the engine rule: one-pass where it can, else PCRE2's JIT with RE2 behind it, or what `engine` says") {
  const std::string nginx =
      R"~(^(?P<client>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+) (?P<protocol>[^"]+)" (?P<status>\d{3}))~";
  CHECK(compile(nginx)->engine_name() == "one-pass");
  CHECK(compile(nginx)->describe() ==
        "one-pass, pcre2-jit for lines it leaves undecided; re2 for a line past "
        "pcre2's match limits");
  CHECK(compile(nginx, EngineChoice::kPcre2)->engine_name() == "pcre2-jit");
  CHECK(compile(nginx, EngineChoice::kRe2)->engine_name() == "re2");
  CHECK(compile(nginx, EngineChoice::kRe2)->describe() == "re2");
  auto lazy = compile(R"(^\[(?P<time>[^\]]+)\] (?P<content>.*?)\s*$)");
  CHECK(lazy->engine_name() == "pcre2-jit");
  CHECK(lazy->describe() == "pcre2-jit; re2 for a line past pcre2's match limits");
  // The one-pass matcher leaves non-ASCII runs to the next engine: same answer.
  auto one_pass = compile(R"~(^(?P<a>\S+) (?P<b>[^"]*)")~");
  CHECK(*run(*one_pass, "caf\xc3\xa9 au \"lait\"") ==
        std::map<std::string, std::string>{{"a", "caf\xc3\xa9"}, {"b", "au "}});
  // A syntax error is PCRE2's, pointing into the pattern.
  std::string error;
  std::size_t offset = 0;
  CHECK_FALSE(CompiledPattern::compile("(?<a>x)(", EngineChoice::kAuto, error, offset));
  CHECK(error == "missing closing parenthesis");
  CHECK(offset == 8);
}

TEST_CASE("a line that makes PCRE2 backtrack past its limits is matched again by RE2, and counted") {
  // Nested quantifiers: every way of splitting the words is tried before
  // the `!` fails the first branch; RE2 finds the second in linear time.
  auto cp = compile(R"(^(?<w>(?:\w+\s?)*)$|^(?<rest>.*)!$)");
  CHECK(cp->engine_name() == "pcre2-jit");
  CompiledPattern::Counts counts;
  auto r = run(*cp, words(40, "!"), &counts);
  REQUIRE(r);
  CHECK(r->at("rest") == words(40, ""));
  CHECK(counts.limit_hits == 1);
  CHECK(counts.fallbacks == 1);
  // A short line stays under the limits.
  CHECK(*run(*cp, "a b!", &counts) == std::map<std::string, std::string>{{"rest", "a b"}});
  CHECK(counts.limit_hits == 0);
}

TEST_CASE("a pattern only PCRE2 runs answers kLimit past its limits: never a stuck worker") {
  auto cp = compile(R"(^(?<w>(?:\w+\s?)*)(?<!x)$)");  // a lookbehind: no RE2
  std::vector<re2::StringPiece> g(static_cast<std::size_t>(cp->groups() + 1));
  CompiledPattern::Counts counts;
  CHECK(cp->match(words(40, "!"), g.data(), counts) == Outcome::kLimit);
  CHECK(counts.limit_hits == 1);
  CHECK(counts.fallbacks == 0);
  CHECK(cp->match("word word", g.data(), counts) == Outcome::kMatch);
}

TEST_CASE("long lines stay under the limits for sane patterns; lines that are not UTF-8 still match") {
  auto cp = compile(
      R"~(^(?<remote>[^ ]*) (?<host>[^ ]*) (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>[^\"]*?)(?: +\S*)?)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>[^\"]*)" "(?<agent>[^\"]*)"))~");
  std::string path(200000, 'p');
  for (std::size_t k = 0; k < path.size(); k += 50) path[k] = ' ';  // a lazy group tried at every space
  CompiledPattern::Counts counts;
  auto r = run(*cp, "1.2.3.4 - - [t] \"GET /" + path + " HTTP/1.1\" 200 5 \"-\" \"agent\"", &counts);
  REQUIRE(r);
  CHECK(r->at("path").size() == path.size() + 1);
  CHECK(counts.limit_hits == 0);
  // Not UTF-8: PCRE2 without its JIT, where an invalid byte matches nothing, as in RE2.
  auto agent = run(*cp, "1.2.3.4 - - [t] \"GET / HTTP/1.1\" 200 5 \"-\" \"bad \xff byte\"");
  CHECK_FALSE(agent);  // [^\"]* cannot cross the \xff
  auto behind = compile(R"((?<=x)(?<v>\S+))");
  CHECK(*run(*behind,
             "x12\xff"
             "3") == std::map<std::string, std::string>{{"v", "12"}});
  auto either = compile(R"((?<v>\d+))");
  CHECK(*run(*either,
             "\xfe\xff"
             "42") == std::map<std::string, std::string>{{"v", "42"}});
}

TEST_CASE("valid_utf8 follows PCRE2's definition") {
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("plain ascii, longer than a word"));
  CHECK(valid_utf8("caf\xc3\xa9 \xe2\x98\xba \xf0\x9f\x98\x80"));
  CHECK_FALSE(valid_utf8("\xff"));
  CHECK_FALSE(valid_utf8("ascii ascii ascii \xc3"));  // cut short
  CHECK_FALSE(valid_utf8("\xc0\xaf"));                // overlong
  CHECK_FALSE(valid_utf8("\xe0\x80\xaf"));            // overlong
  CHECK_FALSE(valid_utf8("\xed\xa0\x80"));            // a surrogate
  CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80"));        // above U+10FFFF
  CHECK_FALSE(valid_utf8("\xc3\x28"));                // a bad continuation
  const std::string ascii(37, 'a');                   // past the 16- and 8-byte steps
  CHECK(valid_utf8(ascii + "caf\xc3\xa9" + ascii + "\xe2\x98\xba" + ascii));
  CHECK_FALSE(valid_utf8(ascii + "caf\xc3\xa9" + ascii + "\xff" + ascii));
  CHECK_FALSE(valid_utf8(ascii + ascii + "\xe2\x98"));
}

TEST_CASE("the dialect rewrites touch only what the engines read differently") {
  CHECK(with_p_names(R"((?<a>x)(?<=y)(?<!z)[(?<b>])") == R"((?P<a>x)(?<=y)(?<!z)[(?<b>])");
  CHECK(re2_syntax(R"(\s\S[\s\S][^\s]\\s\Q\s\E)") ==
        R"([\t\n\v\f\r ][^\t\n\v\f\r ][\t\n\v\f\r [:^space:]][^\t\n\v\f\r ]\\s\Q\s\E)");
  CHECK(pcre2_syntax(R"(a\vb[\v]\\v)") == R"(a\x0bb[\x0b]\\v)");
  CHECK(re2_syntax(R"([]\s]\s)") == R"([]\t\n\v\f\r ][\t\n\v\f\r ])");
}
