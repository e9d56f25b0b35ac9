// parse_regex's engines against each other: for every pattern both PCRE2 and
// RE2 accept, the same answer and the same captures, on real lines (the
// loghub samples, the example configs' nginx log), on generated nginx lines
// and on random mutations of all of them; and the one-pass matcher alike.
// Then the syntax users bring from other shippers, the engine rule, and the
// limits that keep a backtracking pattern from holding a worker.
#include <doctest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "filters/parse_regex/compiled_pattern.h"
#include "filters/parse_regex/grok.h"

using namespace bifrost::filters::parse_regex;
namespace fs = std::filesystem;

namespace {

const fs::path kRoot = BIFROST_SOURCE_DIR;

// The loghub samples live beside the repository (../shared/data/loghub), as
// the end-to-end tests expect; BIFROST_LOGHUB points elsewhere.
fs::path loghub_dir() {
  if (const char* d = std::getenv("BIFROST_LOGHUB")) return d;
  return kRoot.parent_path() / "shared" / "data" / "loghub";
}

std::vector<std::string> read_lines(const fs::path& p, std::size_t max = 100000) {
  std::ifstream f(p);
  INFO("cannot read ", p.string(), " (the loghub samples: set BIFROST_LOGHUB to their folder)");
  REQUIRE(f.good());
  std::vector<std::string> out;
  for (std::string line; out.size() < max && std::getline(f, line);) out.push_back(line);
  return out;
}

// Fluent Bit's `nginx` parser, as its documentation gives it: lazy `*?` and
// optional groups, which the one-pass matcher does not take.
const char* const kFluentBitNginx =
    R"~(^(?<remote>[^ ]*) (?<host>[^ ]*) (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>[^\"]*?)(?: +\S*)?)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>[^\"]*)" "(?<agent>[^\"]*)"))~";
// The same parse written with named building blocks.
const char* const kGrokNginx =
    R"~(^%{IPORHOST:remote} %{NOTSPACE:host} %{NOTSPACE:user} \[%{HTTPDATE:time}\] "%{WORD:method}(?: +%{DATA:path}(?: +%{NOTSPACE})?)?" %{INT:code:int} (?:%{INT:size:int}|-)(?: "%{DATA:referer}" "%{DATA:agent}"))~";

std::string nginx_line(std::mt19937& rng) {
  static const std::vector<std::string> methods = {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"};
  static const std::vector<std::string> paths = {
      "/", "/index.html", "/api/v1/users?id=7&x=%20y", "/a b/c", "/static/app.js", "/search?q=caf\xc3\xa9", "/x\"y",
      ""};
  static const std::vector<std::string> protocols = {" HTTP/1.1", " HTTP/2.0", "", " HTTP/1.0 extra"};
  static const std::vector<std::string> clients = {"127.0.0.1",   "10.1.2.3",     "::1",
                                                   "2001:db8::7", "fe80::1%eth0", "host-1.example.com"};
  static const std::vector<std::string> agents = {
      "curl/7.88.1", "Mozilla/5.0 (X11; Linux x86_64)", "-", "", "caf\xc3\xa9 bot", "a \"quoted\" agent"};
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  std::string l = pick(clients) + " - " + (rng() % 3 ? "-" : "alice") + " [0" + std::to_string(1 + rng() % 9) +
                  "/Jan/2024:0" + std::to_string(rng() % 10) + ":15:59 +0100] \"" + pick(methods);
  if (rng() % 8) l += " " + pick(paths) + pick(protocols);
  l += "\" " + std::to_string(100 + rng() % 500) + " " + (rng() % 5 ? std::to_string(rng() % 100000) : "-");
  if (rng() % 6) l += " \"" + pick(agents) + "\" \"" + pick(agents) + "\"";
  return l;
}

std::string mutate(std::string s, std::mt19937& rng) {
  static const std::vector<std::string> pieces = {" ",  "\"", "-",    "[",    "]",  "1",  "42", "x", "GET", "\n",
                                                  "\t", "é",  "\xff", "\xc3", "\v", "  ", "=",  ":", ".",   "%{"};
  int ops = 1 + static_cast<int>(rng() % 3);
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

struct Engines {
  std::unique_ptr<CompiledPattern> pcre2, re2, autop;
};

Engines compile_all(const std::string& pattern) {
  Engines e;
  std::string error;
  std::size_t offset = 0;
  e.pcre2 = CompiledPattern::compile(pattern, EngineChoice::kPcre2, error, offset);
  INFO(pattern, " ", error);
  REQUIRE(e.pcre2);
  e.re2 = CompiledPattern::compile(pattern, EngineChoice::kRe2, error, offset);
  REQUIRE(e.re2);
  e.autop = CompiledPattern::compile(pattern, EngineChoice::kAuto, error, offset);
  REQUIRE(e.autop);
  REQUIRE(e.pcre2->groups() == e.re2->groups());
  REQUIRE(e.pcre2->named_groups() == e.re2->named_groups());
  return e;
}

struct Tally {
  std::size_t lines = 0, matched = 0;
};

// The same answer and captures from PCRE2, RE2 and the auto choice.
void same_everywhere(const Engines& e, const std::string& text, Tally& tally) {
  const int n = e.re2->groups() + 1;
  std::vector<re2::StringPiece> want(static_cast<std::size_t>(n)), got(static_cast<std::size_t>(n));
  CompiledPattern::Counts counts;
  auto r = e.re2->match(text, want.data(), counts);
  ++tally.lines;
  tally.matched += r == CompiledPattern::Outcome::kMatch;
  for (const CompiledPattern* other : {e.pcre2.get(), e.autop.get()}) {
    INFO("engine: ", other->engine_name(), "\ntext: ", text);
    auto o = other->match(text, got.data(), counts);
    REQUIRE(counts.limit_hits == 0);  // else RE2 would have answered for PCRE2: no comparison
    REQUIRE(o == r);
    if (r != CompiledPattern::Outcome::kMatch) continue;
    for (int k = 0; k < n; ++k) {
      INFO("group ", k);
      REQUIRE((got[k].data() == nullptr) == (want[k].data() == nullptr));
      if (want[k].data() == nullptr) continue;
      CHECK(got[k].data() - text.data() == want[k].data() - text.data());
      CHECK(got[k].size() == want[k].size());
    }
  }
}

void differential(const std::string& pattern, const std::vector<std::string>& lines, Tally& tally) {
  Engines e = compile_all(pattern);
  std::mt19937 rng(7);
  for (const std::string& line : lines) {
    same_everywhere(e, line, tally);
    for (int k = 0; k < 3; ++k) same_everywhere(e, mutate(line, rng), tally);
  }
}

// Every parse_regex pattern of config/examples/*.yaml, with its file name.
std::vector<std::pair<std::string, std::string>> example_patterns() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& entry : fs::directory_iterator(kRoot / "config" / "examples")) {
    if (entry.path().extension() != ".yaml") continue;
    YAML::Node doc = YAML::LoadFile(entry.path().string());
    std::vector<YAML::Node> filter_lists;
    if (doc["filters"]) filter_lists.push_back(doc["filters"]);
    if (doc["pipelines"]) {
      for (const auto& p : doc["pipelines"]) {
        if (p.second["filters"]) filter_lists.push_back(p.second["filters"]);
      }
    }
    for (const YAML::Node& filters : filter_lists) {
      for (const auto& f : filters) {
        if (f["type"].as<std::string>() != "parse_regex") continue;
        if (f["pattern"]) out.emplace_back(entry.path().filename().string(), f["pattern"].as<std::string>());
        if (f["patterns"] && f["patterns"].IsSequence()) {  // a map holds named patterns, not patterns
          for (const auto& p : f["patterns"]) out.emplace_back(entry.path().filename().string(), p.as<std::string>());
        }
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("PCRE2 and RE2 give the same captures for the example configs' patterns on their real logs") {
  const std::map<std::string, std::string> loghub = {{"loghub-apache.yaml", "Apache_2k.log"},
                                                     {"loghub-hdfs.yaml", "HDFS_2k.log"},
                                                     {"loghub-linux.yaml", "Linux_2k.log"},
                                                     {"loghub-openssh.yaml", "OpenSSH_2k.log"}};
  auto patterns = example_patterns();
  REQUIRE(patterns.size() >= 6);
  std::vector<std::string> nginx = read_lines(kRoot / "config" / "examples" / "sample" / "nginx-access.log");
  std::mt19937 rng(1);
  for (int k = 0; k < 300; ++k) nginx.push_back(nginx_line(rng));
  std::size_t on_loghub = 0;
  for (const auto& [file, pattern] : patterns) {
    INFO(file, ": ", pattern);
    Tally tally;
    auto it = loghub.find(file);
    if (it != loghub.end()) {
      differential(pattern, read_lines(loghub_dir() / it->second), tally);
      CHECK(tally.matched >= 2000);  // every real line, and some mutations
      ++on_loghub;
    } else {
      differential(pattern, nginx, tally);
      CHECK(tally.matched > 0);
    }
  }
  CHECK(on_loghub == loghub.size());
}

TEST_CASE("PCRE2 and RE2 give the same captures for Fluent Bit's nginx regex and its grok form") {
  std::vector<std::string> lines = read_lines(kRoot / "config" / "examples" / "sample" / "nginx-access.log");
  std::mt19937 rng(2);
  for (int k = 0; k < 2000; ++k) lines.push_back(nginx_line(rng));
  std::vector<GrokError> errors;
  GrokExpansion grok = expand_grok(kGrokNginx, {}, errors);
  REQUIRE(errors.empty());
  for (const std::string& pattern : {std::string(kFluentBitNginx), grok.pattern}) {
    INFO(pattern);
    Tally tally;
    differential(pattern, lines, tally);
    CHECK(tally.matched > lines.size() / 2);
  }
}

TEST_CASE("PCRE2 and RE2 agree on random lines and random bytes") {
  const std::vector<std::string> patterns = {
      kFluentBitNginx,
      R"~((?P<k>\w+)=(?P<v>"[^"]*"|\S*))~",
      R"~(^(?<a>.*?)\s+(?<b>\d+)?(?<c>.*)$)~",
      R"~((?i)(?<level>info|warn|error)\b:?\s*(?<msg>.*))~",
      R"~(^(?<x>[^\s,]+)(?:,(?<y>[^,]*))*$)~",
      R"~((?<word>[[:alpha:]]+)(?<rest>[\S\s]{0,5}))~",
      R"~(^(?<all>\s*)(?<n>[^\s]*)\s*$)~",
      R"~((?<u>é+|\x{263a})(?<t>.))~",
  };
  std::mt19937 rng(3);
  std::vector<std::string> lines;
  for (int k = 0; k < 500; ++k) {
    std::string s;
    std::size_t len = rng() % 40;
    for (std::size_t i = 0; i < len; ++i) {
      static const char alphabet[] = "ab =,\"\t\v\n\r\f:xyz019INFOwarn\xc3\xa9\xe2\x98\xba\xff";
      s += alphabet[rng() % (sizeof alphabet - 1)];
    }
    lines.push_back(s);
  }
  for (const std::string& p : patterns) {
    INFO(p);
    Tally tally;
    differential(p, lines, tally);
  }
}
