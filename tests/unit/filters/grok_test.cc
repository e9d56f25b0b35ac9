// Named building blocks (%{NAME:field:type}): every built-in compiles on
// PCRE2 and RE2 alike, takes what its name promises and the same captures on
// both; docs/filters.md lists each with its exact definition; expansion and
// its errors.
#include <doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "filters/parse_regex/compiled_pattern.h"
#include "filters/parse_regex/grok.h"

using namespace bifrost::filters::parse_regex;

namespace {

std::string expand(const std::string& pattern, const std::map<std::string, std::string>& defs = {}) {
  std::vector<GrokError> errors;
  GrokExpansion x = expand_grok(pattern, defs, errors);
  INFO(pattern);
  REQUIRE(errors.empty());
  return x.pattern;
}

std::vector<GrokError> errors_of(const std::string& pattern, const std::map<std::string, std::string>& defs = {}) {
  std::vector<GrokError> errors;
  expand_grok(pattern, defs, errors);
  return errors;
}

// What `%{NAME:x}` alone takes of `text` on `engine` (anchored at both ends).
std::optional<std::string> whole(const std::string& name, const std::string& text, EngineChoice engine) {
  std::string error;
  std::size_t offset = 0;
  auto cp = CompiledPattern::compile(expand("^%{" + name + ":x}$"), engine, error, offset);
  INFO(name, ": ", error);
  REQUIRE(cp);
  std::vector<re2::StringPiece> g(static_cast<std::size_t>(cp->groups() + 1));
  CompiledPattern::Counts counts;
  if (cp->match(text, g.data(), counts) != CompiledPattern::Outcome::kMatch) return std::nullopt;
  REQUIRE(counts.limit_hits == 0);
  const auto& s = g[static_cast<std::size_t>(cp->named_groups().at(0).second)];
  return std::string(s.data(), s.size());
}

}  // namespace

TEST_CASE("every built-in named pattern takes what its name says, the same on PCRE2 and RE2") {
  // name -> (texts it takes whole, texts it does not)
  const std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> examples = {
      {"WORD", {{"hello_1", "x"}, {"two words", "a-b", ""}}},
      {"NOTSPACE", {{"a/b:c\"d", "\xc3\xa9t\xc3\xa9"}, {"a b", ""}}},
      {"SPACE", {{"", " \t "}, {"x"}}},
      {"DATA", {{"", "anything at all"}, {"two\nlines"}}},
      {"GREEDYDATA", {{"", "anything at all"}, {"two\nlines"}}},
      {"INT", {{"42", "-7", "+0"}, {"4.2", "x", ""}}},
      {"POSINT", {{"42"}, {"0", "-1"}}},
      {"NONNEGINT", {{"0", "42"}, {"-1"}}},
      {"BASE10NUM", {{"-3.14", ".5", "7.", "12"}, {"1e5", ".", "--1"}}},
      {"NUMBER", {{"12.5", "-1"}, {"x"}}},
      {"BASE16NUM", {{"0x1F", "-ff", "0"}, {"0xg"}}},
      {"QUOTEDSTRING", {{R"("a \"b\" c")", "'x'", R"("")"}, {R"("open)", "bare"}}},
      {"QS", {{R"("a b")"}, {"a b"}}},
      {"UUID", {{"123e4567-e89b-12d3-a456-426614174000"}, {"123e4567-e89b-12d3-a456-42661417400"}}},
      {"LOGLEVEL", {{"WARNING", "error", "Info", "DEBUG", "crit", "EMERGENCY", "trace"}, {"loud", "WARNINGS"}}},
      {"USERNAME", {{"john.doe-1", "_x"}, {"a b", "a@b"}}},
      {"USER", {{"alice"}, {"a b"}}},
      {"EMAILLOCALPART", {{"first.last+tag"}, {"a..b", ".a"}}},
      {"EMAILADDRESS", {{"first.last@example.com", "x@localhost"}, {"@example.com", "a@"}}},
      {"IPV4", {{"192.168.0.255", "0.0.0.0", "10.1.2.3"}, {"256.1.1.1", "1.2.3", "01.2.3.4"}}},
      {"IPV6",
       {{"2001:db8::1", "::1", "::", "fe80::1%eth0", "::ffff:192.0.2.1", "1:2:3:4:5:6:7:8",
         "1::", "1:2:3:4:5:6:1.2.3.4", "1::2:3:4:5:6:7", "2001:DB8:0:0:8:800:200C:417A"},
        {"1:2:3:4:5:6:7:8:9", "12345::", "1:::2", "1::2::3", "g::1"}}},
      {"IP", {{"10.0.0.1", "2001:db8::1"}, {"10.0.0", "host"}}},
      {"MAC", {{"00:1A:2b:3c:4D:5e", "00-1a-2b-3c-4d-5e", "001a.2b3c.4d5e"}, {"00:1a:2b:3c:4d"}}},
      {"HOSTNAME", {{"host-1.example.com", "localhost", "example.com."}, {"-bad", "bad-", "a..b"}}},
      {"IPORHOST", {{"10.0.0.1", "::1", "example.com"}, {"a b"}}},
      {"HOSTPORT", {{"example.com:8080", "10.0.0.1:53"}, {"example.com", "example.com:0"}}},
      {"UNIXPATH", {{"/var/log/syslog", "/", "/a.b/c-d_e"}, {"var/log", "/a?b", "/a b"}}},
      {"WINPATH", {{R"(C:\Windows\System32)", R"(\\server\share)"}, {"C:/x", R"(C:\a|b)"}}},
      {"PATH", {{"/var/log", R"(C:\x)"}, {"x"}}},
      {"URIPROTO", {{"https", "svn+ssh"}, {"1http", ""}}},
      {"URIHOST", {{"example.com:443", "10.0.0.1"}, {"example.com:"}}},
      {"URIPATH", {{"/a/b%20c", "/", "/a;b=c"}, {"a/b", "/a b"}}},
      {"URIPARAM", {{"?q=1&r=[2]", "?"}, {"q=1", "?a b"}}},
      {"URIPATHPARAM", {{"/search?q=x", "/a"}, {"?q"}}},
      {"URI",
       {{"https://user:pw@example.com:8443/a/b?c=d", "http://10.0.0.1", "file:///etc/hosts"},
        {"example.com/a", "http:/x"}}},
      {"MONTH", {{"Jan", "September", "Sept", "May"}, {"Janu", "jan", "Foo"}}},
      {"MONTHNUM", {{"09", "9", "12"}, {"13", "00"}}},
      {"MONTHDAY", {{"31", "01", "7"}, {"32", "00"}}},
      {"DAY", {{"Wednesday", "Mon"}, {"Wed.", "Funday"}}},
      {"YEAR", {{"2024"}, {"24", "20245"}}},
      {"HOUR", {{"23", "7", "00"}, {"24"}}},
      {"MINUTE", {{"59", "00"}, {"60", "5"}}},
      {"SECOND", {{"60", "07.123", "5,5"}, {"61"}}},
      {"TIME", {{"23:59:07,5", "1:02:03"}, {"23:59", "25:00:00"}}},
      {"ISO8601_TIMEZONE", {{"Z", "+01:00", "-0500", "+01"}, {"UTC", "+", "01"}}},
      {"TIMESTAMP_ISO8601",
       {{"2024-01-31T23:59:07.123+01:00", "2024-1-5 07:08", "2024-01-31T23:59:07Z"},
        {"2024-01-31", "31-01-2024T00:00"}}},
      {"DATE_US", {{"12/31/2024", "1-5-2024"}, {"31/12/2024"}}},
      {"DATE_EU", {{"31.12.2024", "5/1/2024"}, {"12/31/2024"}}},
      {"HTTPDATE", {{"01/Jan/2024:00:00:01 +0000", "1/Feb/2024:13:05:59 -0700"}, {"01/Jan/2024:00:00:01"}}},
      {"SYSLOGTIMESTAMP", {{"Jun  5 04:06:05", "Dec 10 06:55:46"}, {"Jun 5 04:06"}}},
      {"SYSLOGPROG", {{"sshd[123]", "kernel", "CRON"}, {"sshd[x]"}}},
  };
  std::set<std::string> covered;
  for (const BuiltinPattern& b : builtin_patterns()) {
    INFO(std::string(b.name), " = ", std::string(b.definition));
    auto it = examples.find(b.name);
    REQUIRE(it != examples.end());  // every built-in has examples here
    covered.insert(b.name);
    for (const std::string& text : it->second.first) {
      INFO("takes: ", text);
      for (EngineChoice e : {EngineChoice::kPcre2, EngineChoice::kRe2}) CHECK(whole(b.name, text, e) == text);
    }
    for (const std::string& text : it->second.second) {
      INFO("does not take: ", text);
      for (EngineChoice e : {EngineChoice::kPcre2, EngineChoice::kRe2}) CHECK_FALSE(whole(b.name, text, e));
    }
  }
  CHECK(covered.size() == examples.size());
}

TEST_CASE("built-ins stop where the pattern around them says, the same on both engines") {
  // Unanchored on the right: the longest reading comes first.
  for (EngineChoice e : {EngineChoice::kPcre2, EngineChoice::kRe2}) {
    std::string error;
    std::size_t offset = 0;
    auto cp = CompiledPattern::compile(expand("^%{IPV6:ip}"), e, error, offset);
    REQUIRE(cp);
    for (const std::string ip : {"1::2", "1:2::3:4", "fe80::1%eth0", "::ffff:1.2.3.4", "2001:db8::"}) {
      std::string text = ip + " rest";
      std::vector<re2::StringPiece> g(static_cast<std::size_t>(cp->groups() + 1));
      CompiledPattern::Counts counts;
      REQUIRE(cp->match(text, g.data(), counts) == CompiledPattern::Outcome::kMatch);
      CHECK(std::string(g[1].data(), g[1].size()) == ip);
    }
  }
}

TEST_CASE("docs/filters.md lists every built-in named pattern with its exact definition") {
  std::ifstream f(std::filesystem::path(BIFROST_SOURCE_DIR) / "docs" / "filters.md");
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string doc = ss.str();
  // The list is a ```text block after the marker line; one "NAME  definition" per line.
  const std::string marker = "<!-- built-in named patterns: tests/unit/filters/grok_test.cc checks this list -->";
  auto at = doc.find(marker);
  REQUIRE(at != std::string::npos);
  auto begin = doc.find("```text\n", at);
  REQUIRE(begin != std::string::npos);
  begin += 8;
  auto end = doc.find("```", begin);
  std::map<std::string, std::string> listed;
  std::istringstream block(doc.substr(begin, end - begin));
  for (std::string line; std::getline(block, line);) {
    auto space = line.find(' ');
    REQUIRE(space != std::string::npos);
    auto def = line.find_first_not_of(' ', space);
    listed[line.substr(0, space)] = line.substr(def);
  }
  CHECK(listed.size() == builtin_patterns().size());
  for (const BuiltinPattern& b : builtin_patterns()) {
    INFO(b.name);
    CHECK(listed[b.name] == b.definition);
  }
}

TEST_CASE("grok expansion: fields, types, your own definitions, and what is left as written") {
  std::vector<GrokError> errors;
  GrokExpansion x = expand_grok("%{INT:status:int} %{WORD} %{IP:client.ip} \\%{x} [%{] \\Q%{INT}\\E", {}, errors);
  REQUIRE(errors.empty());
  INFO(x.pattern);
  REQUIRE(x.captures.size() == 2);
  CHECK(x.captures[0].group == "bifrost_grok_1");
  CHECK(x.captures[0].field == "status");
  CHECK(x.captures[0].type == "int");
  CHECK(x.captures[1].field == "client.ip");
  CHECK(x.captures[1].type.empty());
  CHECK(x.pattern.starts_with("(?P<bifrost_grok_1>[+-]?[0-9]+) (?:\\b\\w+\\b) (?P<bifrost_grok_2>(?:"));
  CHECK(x.pattern.ends_with(" \\%{x} [%{] \\Q%{INT}\\E"));
  // Your own definitions use others and may replace a built-in.
  CHECK(expand("%{PAIR:p}", {{"PAIR", "%{WORD}=%{INT}"}}) == "(?P<bifrost_grok_1>(?:\\b\\w+\\b)=(?:[+-]?[0-9]+))");
  CHECK(expand("%{INT}", {{"INT", "[0-9]+"}}) == "(?:[0-9]+)");
}

TEST_CASE("grok errors: an unknown name with a did-you-mean, a cycle, a bad type, located") {
  auto unknown = errors_of("^%{IPV4:a} %{INTT:n}");
  REQUIRE(unknown.size() == 1);
  CHECK(unknown[0].message.starts_with("unknown named pattern \"INTT\"; did you mean \"INT\"?"));
  CHECK(unknown[0].offset == 13);
  CHECK(unknown[0].definition.empty());
  // In a definition: located there, also through a use.
  auto inner = errors_of("x %{MINE}", {{"MINE", "%{WROD}"}});
  REQUIRE(inner.size() == 1);
  CHECK(inner[0].definition == "MINE");
  CHECK(inner[0].offset == 2);
  CHECK(inner[0].message.find("did you mean \"WORD\"?") != std::string::npos);
  std::vector<GrokError> unused;
  check_definition("LATER", {{"LATER", "%{NOPE}"}}, unused);
  REQUIRE(unused.size() == 1);
  CHECK(unused[0].definition == "LATER");
  auto cycle = errors_of("%{A}", {{"A", "a%{B}"}, {"B", "%{A}"}});
  REQUIRE(cycle.size() == 1);
  CHECK(cycle[0].message == "named pattern \"A\" uses itself");
  CHECK(cycle[0].definition == "B");
  auto type = errors_of("%{INT:n:integer}");
  REQUIRE(type.size() == 1);
  CHECK(type[0].message == "\"integer\" is not one of int | float | bool | string; did you mean \"int\"?");
  CHECK(type[0].offset == 8);
  CHECK(errors_of("%{INT:n")[0].message == "%{ without a closing }");
  CHECK(errors_of("%{INT:}")[0].message == "empty field name");
  CHECK(errors_of("%{a-b}")[0].message.starts_with("a named pattern is %{NAME}"));
  auto big = errors_of("%{Z}", {{"Z", "%{A}%{A}%{A}%{A}"},
                                {"A", "%{B}%{B}%{B}%{B}"},
                                {"B", "%{C}%{C}%{C}%{C}"},
                                {"C", "%{D}%{D}%{D}%{D}"},
                                {"D", "%{E}%{E}%{E}%{E}"},
                                {"E", "%{HTTPDATE}%{HTTPDATE}%{HTTPDATE}%{HTTPDATE}"}});
  REQUIRE_FALSE(big.empty());
  CHECK(big[0].message.find("expand to more than 1 MiB") != std::string::npos);
}
