// A fast path for the patterns most log formats are written in: anchored at
// the start, a sequence of literals, character-class runs and groups, where
// every choice is decided by the next byte — a run never takes a byte its
// follower could start with, the alternatives of a group start differently.
// Such a pattern never backtracks, so one left-to-right pass finds what
// RE2's and PCRE2's leftmost-first search finds, captures included, at a
// fraction of their cost (10 captures are past RE2's one-pass engine).
// Compared with RE2 as parse_regex gives it the pattern (syntax.h): \s is
// [\t\n\v\f\r ].
//
//   ^(?P<client>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<method>\S+) ...
//
// compile() accepts only that subset (ASCII literals; \d \D \s \S \w \W . and
// [...] classes; quantifiers + * ? {n} {n,} {n,m}, greedy; groups (...),
// (?:...), (?P<name>...) without a quantifier; alternatives in a group; a
// trailing $) and proves the no-backtracking property; anything else (lazy
// quantifiers, flags, an unanchored start, an ambiguous run) stays with RE2.
// RE2 reads UTF-8 by rune: when a run would take a byte >= 0x80, match()
// answers kUndecided and the caller asks RE2.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <re2/stringpiece.h>

namespace bifrost::filters::parse_regex {

class LinearPattern {
 public:
  enum class Result : std::uint8_t { kMatch, kNoMatch, kUndecided };

  // The matcher for `pattern`, or nothing when it is outside the subset.
  static std::optional<LinearPattern> compile(std::string_view pattern);

  // Like RE2::Match(text, 0, size, UNANCHORED, groups, ngroups): groups[0]
  // is the match, groups[k] capture k (null when it took no part).
  Result match(std::string_view text, re2::StringPiece* groups, int ngroups) const;

  int captures() const { return captures_; }

  struct Seq;
  using CharSet = std::bitset<256>;
  struct Item {
    bool group = false;
    CharSet set;  // a run: the bytes it takes
    // The run's set as a table for the hot loop: 0 not in the set, 1 in it,
    // 2 in it but >= 0x80 (RE2 reads a rune there: undecided).
    std::array<std::uint8_t, 256> table{};
    // When the run stops at no more than 6 ASCII bytes ([^"], \S), they are
    // here (repeated to fill), and the run skips 16 bytes at a time.
    std::array<char, 6> stops{};
    bool few_stops = false;
    std::uint32_t min = 1, max = 1;
    int capture = -1;       // a group: its capture index, or -1
    std::vector<Seq> alts;  // a group: its alternatives
    std::vector<CharSet> alt_first;
  };
  struct Seq {
    std::vector<Item> items;
  };

 private:
  bool match_seq(const Seq& s, std::string_view text, std::size_t& pos, re2::StringPiece* groups, int ngroups,
                 bool& undecided) const;

  Seq root_;
  bool end_anchor_ = false;
  int captures_ = 0;
};

}  // namespace bifrost::filters::parse_regex
