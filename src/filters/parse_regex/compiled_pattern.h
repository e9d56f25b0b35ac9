// One parse_regex pattern, compiled for the engines that run it, and the
// rule that picks them (docs/filters.md#engines):
//
//   engine: auto (default)
//     1. the one-pass matcher (linear_pattern.h) when the pattern is in its
//        subset: it decides most lines alone and hands the rest (non-ASCII
//        bytes in a run) to 2;
//     2. PCRE2, with its JIT, under match limits (pcre2_pattern.h).
//        A line that is not valid UTF-8 runs on PCRE2 without its JIT
//        (which reads only UTF-8), where an invalid byte matches nothing,
//        as in RE2.
//     3. RE2 for a line that hit those limits (linear time, the same
//        captures). A pattern RE2 cannot compile (a lookaround, a
//        backreference, a possessive quantifier) runs on PCRE2 alone, and a
//        line past the limits is a mismatch (Outcome::kLimit), counted.
//   engine: pcre2   as auto without the one-pass matcher.
//   engine: re2     RE2 alone: linear time on any pattern; what RE2 cannot
//                   compile is a config error.
//
// A pattern PCRE2 cannot compile but RE2 can (\C) runs on RE2.
//
// Thread-safe: match() is const and runs on every worker at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <re2/stringpiece.h>

#include "filters/parse_regex/linear_pattern.h"
#include "filters/parse_regex/pcre2_pattern.h"

namespace re2 {
class RE2;
}

namespace bifrost::filters::parse_regex {

enum class EngineChoice : std::uint8_t { kAuto, kPcre2, kRe2 };

class CompiledPattern {
 public:
  // Compiles `pattern` (named building blocks already expanded, grok.h) for
  // `choice`. On failure nothing, with the message and the offset in
  // `pattern` it points at (0 when the engine gives none).
  static std::unique_ptr<CompiledPattern> compile(std::string_view pattern, EngineChoice choice, std::string& error,
                                                  std::size_t& error_offset);
  ~CompiledPattern();

  enum class Outcome : std::uint8_t { kMatch, kNoMatch, kLimit };
  // What one batch's matches cost beyond the first engine, for the metrics.
  struct Counts {
    std::uint64_t limit_hits = 0;  // PCRE2 stopped at its limits
    std::uint64_t fallbacks = 0;   // ... and RE2 matched the line again
  };
  // Searches `text`; on kMatch, groups[k] is capture k for k <= groups()
  // (null data when it took no part). kLimit: PCRE2 stopped at its limits
  // and no RE2 could take over; the line counts as not matched.
  Outcome match(std::string_view text, re2::StringPiece* groups, Counts& counts) const;

  int groups() const { return groups_; }
  // (name, capture index) of the named groups, by index.
  const std::vector<std::pair<std::string, int>>& named_groups() const { return names_; }

  // The engine that matches first: "one-pass", "pcre2-jit", "pcre2" (no
  // JIT on this machine) or "re2".
  std::string_view engine_name() const;
  // The engine and what takes over when it cannot decide, for a log line or
  // `bifrost validate --explain`: "pcre2-jit; re2 past the match limits".
  std::string describe() const;

 private:
  CompiledPattern() = default;

  int groups_ = 0;
  std::vector<std::pair<std::string, int>> names_;
  std::optional<LinearPattern> fast_;
  std::unique_ptr<Pcre2Pattern> pcre2_;
  std::unique_ptr<re2::RE2> re2_;
  std::string no_re2_reason_;  // why RE2 cannot take over, when PCRE2 runs alone
};

}  // namespace bifrost::filters::parse_regex
