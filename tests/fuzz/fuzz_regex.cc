// libFuzzer: parse_regex's engines. The first byte picks a mode (its value
// mod 3; '0', '1', '2' in the seeds):
//   0  differential, the one-pass matcher against RE2: the input is a
//      pattern and a text (split at the first NUL); whenever the matcher
//      accepts the pattern and decides, its answer and captures are RE2's.
//   1  any pattern on any line (split at the first NUL), on every engine
//      choice: no crash, captures inside the line, and no match longer than
//      a time bound (PCRE2's limits hand a backtracking line to RE2).
//   2  differential on real patterns (the next byte picks one: the example
//      configs', Fluent Bit's nginx regex, its grok form): the rest is the
//      line; PCRE2, RE2 and the auto choice give the same answer and captures.
#include <re2/re2.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "filters/parse_regex/compiled_pattern.h"
#include "filters/parse_regex/grok.h"
#include "filters/parse_regex/linear_pattern.h"
#include "filters/parse_regex/syntax.h"

using namespace bifrost::filters::parse_regex;

namespace {

// Generous for ASan, UBSan and the fuzzer's instrumentation: a match under
// the limits takes milliseconds; exponential backtracking takes minutes.
constexpr auto kTimeBound = std::chrono::seconds(2);

void one_pass_against_re2(std::string_view in) {
  std::size_t nul = in.find('\0');
  if (nul == std::string_view::npos) return;
  std::string pattern(in.substr(0, nul));
  std::string text(in.substr(nul + 1));
  re2::RE2 re(re2_syntax(pattern), re2::RE2::Quiet);
  if (!re.ok()) return;
  auto fast = LinearPattern::compile(with_p_names(pattern));
  if (!fast) return;
  const int n = re.NumberOfCapturingGroups() + 1;
  if (fast->captures() != n - 1) __builtin_trap();
  std::vector<re2::StringPiece> want(static_cast<std::size_t>(n)), got(static_cast<std::size_t>(n));
  bool matched = re.Match(text, 0, text.size(), re2::RE2::UNANCHORED, want.data(), n);
  auto r = fast->match(text, got.data(), n);
  if (r == LinearPattern::Result::kUndecided) return;
  if ((r == LinearPattern::Result::kMatch) != matched) __builtin_trap();
  if (!matched) return;
  for (int k = 0; k < n; ++k) {
    if ((got[k].data() == nullptr) != (want[k].data() == nullptr)) __builtin_trap();
    if (want[k].data() != nullptr && (got[k].data() != want[k].data() || got[k].size() != want[k].size())) {
      __builtin_trap();
    }
  }
}

void any_pattern_any_line(std::string_view in) {
  std::size_t nul = in.find('\0');
  if (nul == std::string_view::npos) return;
  std::string pattern(in.substr(0, nul));
  std::string text(in.substr(nul + 1));
  std::vector<GrokError> errors;
  if (has_grok(pattern)) pattern = expand_grok(pattern, {}, errors).pattern;
  if (!errors.empty() || pattern.size() > 4096) return;
  for (EngineChoice choice : {EngineChoice::kAuto, EngineChoice::kPcre2, EngineChoice::kRe2}) {
    std::string error;
    std::size_t offset = 0;
    auto cp = CompiledPattern::compile(pattern, choice, error, offset);
    if (!cp) {
      if (offset > pattern.size()) __builtin_trap();
      continue;
    }
    std::vector<re2::StringPiece> groups(static_cast<std::size_t>(cp->groups() + 1));
    CompiledPattern::Counts counts;
    auto t0 = std::chrono::steady_clock::now();
    auto r = cp->match(text, groups.data(), counts);
    if (std::chrono::steady_clock::now() - t0 > kTimeBound) __builtin_trap();
    if (r != CompiledPattern::Outcome::kMatch) continue;
    for (const auto& g : groups) {
      if (g.data() == nullptr) continue;
      if (g.data() < text.data() || g.data() + g.size() > text.data() + text.size()) __builtin_trap();
    }
  }
}

std::vector<std::unique_ptr<CompiledPattern>> compiled(EngineChoice choice) {
  static const char* const kPatterns[] = {
      // config/examples/*.yaml
      R"(^\[(?P<time>[^\]]+)\] \[(?P<level>[^\]]+)\] (?P<content>.*?)\s*$)",
      R"(^(?P<date>\d{6}) (?P<time>\d{6}) (?P<pid>\d+) (?P<level>[A-Z]+) (?P<component>[^:]+): (?P<content>.*?)\s*$)",
      R"(^(?P<month>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<time>\d\d:\d\d:\d\d) (?P<host>\S+)\s+(?P<component>[^\[:]+?)(?:\[(?P<pid>\d+)\])?:\s*(?P<content>.*?)\s*$)",
      R"(^(?P<month>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<time>\d\d:\d\d:\d\d) (?P<host>\S+)\s+sshd\[(?P<pid>\d+)\]:\s*(?P<content>.*?)\s*$)",
      R"~(^(?P<client>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+) (?P<protocol>[^"]+)" (?P<status>\d{3}) (?P<bytes>\d+|-))~",
      // Fluent Bit's nginx parser, and the same parse with building blocks
      R"~(^(?<remote>[^ ]*) (?<host>[^ ]*) (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>[^\"]*?)(?: +\S*)?)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>[^\"]*)" "(?<agent>[^\"]*)"))~",
      R"~(^%{IPORHOST:remote} %{NOTSPACE:host} %{NOTSPACE:user} \[%{HTTPDATE:time}\] "%{WORD:method}(?: +%{DATA:path}(?: +%{NOTSPACE})?)?" %{INT:code:int} (?:%{INT:size:int}|-)(?: "%{DATA:referer}" "%{DATA:agent}"))~",
      R"~(%{TIMESTAMP_ISO8601:t} %{LOGLEVEL:level} \[%{DATA:thread}\] %{URI:uri} %{UUID:id} %{QS:q} %{GREEDYDATA:rest})~",
  };
  std::vector<std::unique_ptr<CompiledPattern>> out;
  for (const char* p : kPatterns) {
    std::vector<GrokError> errors;
    std::string expanded = expand_grok(p, {}, errors).pattern;
    std::string error;
    std::size_t offset = 0;
    out.push_back(CompiledPattern::compile(expanded, choice, error, offset));
    if (!out.back() || !errors.empty()) __builtin_trap();
  }
  return out;
}

void engines_agree(std::string_view in) {
  static const auto pcre2 = compiled(EngineChoice::kPcre2);
  static const auto re2 = compiled(EngineChoice::kRe2);
  static const auto autop = compiled(EngineChoice::kAuto);
  if (in.empty()) return;
  const std::size_t k = static_cast<unsigned char>(in[0]) % pcre2.size();
  std::string text(in.substr(1));
  const int n = re2[k]->groups() + 1;
  std::vector<re2::StringPiece> want(static_cast<std::size_t>(n)), got(static_cast<std::size_t>(n));
  CompiledPattern::Counts counts;
  auto r = re2[k]->match(text, want.data(), counts);
  for (const CompiledPattern* other : {pcre2[k].get(), autop[k].get()}) {
    CompiledPattern::Counts c;
    auto o = other->match(text, got.data(), c);
    if (c.limit_hits > 0) continue;  // RE2 answered for it: nothing to compare
    if (o != r) __builtin_trap();
    if (r != CompiledPattern::Outcome::kMatch) continue;
    for (int g = 0; g < n; ++g) {
      if ((got[g].data() == nullptr) != (want[g].data() == nullptr)) __builtin_trap();
      if (want[g].data() != nullptr && (got[g].data() != want[g].data() || got[g].size() != want[g].size())) {
        __builtin_trap();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: one_pass_against_re2(in); break;
    case 1: any_pattern_any_line(in); break;
    default: engines_agree(in); break;
  }
  return 0;
}
