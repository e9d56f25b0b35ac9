// A pattern compiled by PCRE2, with its JIT where the platform has one, and
// matched under limits, so that no line can hold a worker: a backtracking
// engine takes exponential time on a bad pattern and a line built for it.
//
// Each match may take at most kMatchLimitBase + kMatchLimitPerByte × (line
// length) steps of PCRE2's match limit (the sane patterns of the tests need
// 2 per byte at most), a JIT stack of kJitStackMax bytes, and without the
// JIT a depth of kDepthLimit and kHeapLimitKib of heap. Past any of them
// match() answers kLimit and the caller decides (compiled_pattern.h).
//
// Read in UTF-8 (PCRE2_UTF); $ matches only at the very end
// (PCRE2_DOLLAR_ENDONLY), as RE2's does; newline is \n. The JIT reads only
// valid UTF-8: match() answers kInvalidUtf8 for a line that is not, and
// match_any_bytes() matches it without the JIT, with invalid sequences
// matching nothing (PCRE2_MATCH_INVALID_UTF), as RE2 reads them. (10.42's
// JIT with PCRE2_MATCH_INVALID_UTF stops \S and \W at non-ASCII letters:
// the differential test found it.)
//
// Thread-safe: the compiled code is read-only; the match data, the match
// context and the JIT stack are per thread (thread_local), made on a
// thread's first match and grown only when a pattern needs more groups, so
// a match allocates nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <re2/stringpiece.h>

namespace bifrost::filters::parse_regex {

// True when `text` is UTF-8 as PCRE2 defines it (no overlong forms, no
// surrogates, nothing above U+10FFFF); 16 ASCII bytes at a time.
bool valid_utf8(std::string_view text);

class Pcre2Pattern {
 public:
  static constexpr std::uint32_t kMatchLimitBase = 10'000;
  static constexpr std::uint32_t kMatchLimitPerByte = 32;
  static constexpr std::size_t kJitStackMax = 512 * 1024;
  static constexpr std::uint32_t kDepthLimit = 10'000;
  static constexpr std::uint32_t kHeapLimitKib = 16 * 1024;

  // Compiles `pattern` (already in PCRE2's syntax, see syntax.h); on failure
  // nothing, with PCRE2's message and the offset it points at.
  static std::unique_ptr<Pcre2Pattern> compile(const std::string& pattern, std::string& error, std::size_t& offset);
  ~Pcre2Pattern();
  Pcre2Pattern(const Pcre2Pattern&) = delete;
  Pcre2Pattern& operator=(const Pcre2Pattern&) = delete;

  enum class Result : std::uint8_t { kMatch, kNoMatch, kLimit, kInvalidUtf8 };
  // Searches `text` (unanchored unless the pattern anchors itself); on a
  // match groups[k] is capture k (null data when it took no part), for k
  // below ngroups.
  Result match(std::string_view text, re2::StringPiece* groups, int ngroups) const;
  // The same for any bytes (never kInvalidUtf8), without the JIT: for the
  // lines match() refuses.
  Result match_any_bytes(std::string_view text, re2::StringPiece* groups, int ngroups) const;

  bool jit() const { return jit_; }
  int captures() const { return captures_; }
  // (name, capture index), in the order of the name table.
  std::vector<std::pair<std::string, int>> names() const;

 private:
  Pcre2Pattern() = default;
  Result run(void* code, bool jit, std::string_view text, re2::StringPiece* groups, int ngroups) const;

  void* code_ = nullptr;            // a pcre2_code (8-bit), kept out of this header
  void* any_bytes_code_ = nullptr;  // the same, with PCRE2_MATCH_INVALID_UTF, never JIT-compiled
  bool jit_ = false;
  int captures_ = 0;
};

}  // namespace bifrost::filters::parse_regex
