// libFuzzer, differential: parse_regex's one-pass matcher against RE2. The
// input is a pattern and a text (split at the first NUL); whenever the
// matcher accepts the pattern and decides, its answer and captures must be
// RE2's.
#include <re2/re2.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "filters/parse_regex/linear_pattern.h"

using bifrost::filters::parse_regex::LinearPattern;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::size_t nul = in.find('\0');
  if (nul == std::string_view::npos) return 0;
  std::string pattern(in.substr(0, nul));
  std::string text(in.substr(nul + 1));
  re2::RE2 re(pattern, re2::RE2::Quiet);
  if (!re.ok()) return 0;
  auto fast = LinearPattern::compile(pattern);
  if (!fast) return 0;
  const int n = re.NumberOfCapturingGroups() + 1;
  if (fast->captures() != n - 1) __builtin_trap();
  std::vector<re2::StringPiece> want(static_cast<std::size_t>(n)), got(static_cast<std::size_t>(n));
  bool matched = re.Match(text, 0, text.size(), re2::RE2::UNANCHORED, want.data(), n);
  auto r = fast->match(text, got.data(), n);
  if (r == LinearPattern::Result::kUndecided) return 0;
  if ((r == LinearPattern::Result::kMatch) != matched) __builtin_trap();
  if (!matched) return 0;
  for (int k = 0; k < n; ++k) {
    if ((got[k].data() == nullptr) != (want[k].data() == nullptr)) __builtin_trap();
    if (want[k].data() != nullptr && (got[k].data() != want[k].data() || got[k].size() != want[k].size())) {
      __builtin_trap();
    }
  }
  return 0;
}
