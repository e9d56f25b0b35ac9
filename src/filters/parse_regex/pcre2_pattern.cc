#include "filters/parse_regex/pcre2_pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cstring>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace bifrost::filters::parse_regex {

namespace {

pcre2_code* as_code(void* p) { return static_cast<pcre2_code*>(p); }

// What a worker thread matches with. A JIT stack and a match context must
// not be shared by threads matching at once; the match data holds the
// captures. Made on the thread's first match, freed when the thread ends.
struct ThreadState {
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* stack = nullptr;
  pcre2_match_data* data = nullptr;
  std::uint32_t pairs = 0;

  ThreadState() = default;
  ThreadState(const ThreadState&) = delete;
  ThreadState& operator=(const ThreadState&) = delete;
  ~ThreadState() {
    pcre2_match_data_free(data);
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(context);
  }

  // Ready for a pattern of `need` pairs (captures + 1); false when memory
  // ran out, and the caller takes the safe path.
  bool prepare(std::uint32_t need) {
    if (context == nullptr) {
      context = pcre2_match_context_create(nullptr);
      if (context == nullptr) return false;
      pcre2_set_depth_limit(context, Pcre2Pattern::kDepthLimit);
      pcre2_set_heap_limit(context, Pcre2Pattern::kHeapLimitKib);
      // Without a JIT (no stack), the interpreter's limits above apply.
      stack = pcre2_jit_stack_create(32 * 1024, Pcre2Pattern::kJitStackMax, nullptr);
      if (stack != nullptr) pcre2_jit_stack_assign(context, nullptr, stack);
    }
    if (pairs < need) {
      pcre2_match_data_free(data);
      data = pcre2_match_data_create(need, nullptr);
      pairs = data != nullptr ? need : 0;
    }
    return data != nullptr;
  }
};

thread_local ThreadState t_state;

}  // namespace

bool valid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    // The common case: ASCII, 16 bytes (or 8) at a time.
#if defined(__SSE2__)
    while (i + 16 <= n && _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))) == 0) i += 16;
#endif
    if (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, s + i, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    if (i >= n) break;
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    if (i + len > n || s[i + 1] < lo || s[i + 1] > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      if (s[i + k] < 0x80 || s[i + k] > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

std::unique_ptr<Pcre2Pattern> Pcre2Pattern::compile(const std::string& pattern, std::string& error,
                                                    std::size_t& offset) {
  pcre2_compile_context* cc = pcre2_compile_context_create(nullptr);
  if (cc == nullptr) {
    error = "out of memory";
    offset = 0;
    return nullptr;
  }
  pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
  int code_error = 0;
  PCRE2_SIZE at = 0;
  const std::uint32_t options = PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C;
  const auto* text = reinterpret_cast<PCRE2_SPTR>(pattern.data());
  pcre2_code* code = pcre2_compile(text, pattern.size(), options, &code_error, &at, cc);
  pcre2_code* any_bytes = nullptr;
  if (code != nullptr) {
    any_bytes = pcre2_compile(text, pattern.size(), options | PCRE2_MATCH_INVALID_UTF, &code_error, &at, cc);
    if (any_bytes == nullptr) {
      pcre2_code_free(code);
      code = nullptr;
    }
  }
  pcre2_compile_context_free(cc);
  if (code == nullptr) {
    PCRE2_UCHAR buffer[256];
    int n = pcre2_get_error_message(code_error, buffer, sizeof buffer);
    error = n > 0 ? std::string(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(n)) : "invalid pattern";
    offset = at;
    return nullptr;
  }
  std::unique_ptr<Pcre2Pattern> p(new Pcre2Pattern());
  p->code_ = code;
  p->any_bytes_code_ = any_bytes;
  p->jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  std::uint32_t count = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &count);
  p->captures_ = static_cast<int>(count);
  return p;
}

Pcre2Pattern::~Pcre2Pattern() {
  pcre2_code_free(as_code(code_));
  pcre2_code_free(as_code(any_bytes_code_));
}

std::vector<std::pair<std::string, int>> Pcre2Pattern::names() const {
  std::uint32_t count = 0, entry_size = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(as_code(code_), PCRE2_INFO_NAMECOUNT, &count);
  pcre2_pattern_info(as_code(code_), PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
  pcre2_pattern_info(as_code(code_), PCRE2_INFO_NAMETABLE, &table);
  std::vector<std::pair<std::string, int>> out;
  for (std::uint32_t i = 0; i < count; ++i) {
    PCRE2_SPTR e = table + static_cast<std::size_t>(i) * entry_size;
    int index = (e[0] << 8) | e[1];  // big-endian group number, then the NUL-terminated name
    out.emplace_back(reinterpret_cast<const char*>(e + 2), index);
  }
  return out;
}

Pcre2Pattern::Result Pcre2Pattern::match(std::string_view text, re2::StringPiece* groups, int ngroups) const {
  if (!valid_utf8(text)) return Result::kInvalidUtf8;  // pcre2_jit_match does not check, and must not be given it
  return run(code_, jit_, text, groups, ngroups);
}

Pcre2Pattern::Result Pcre2Pattern::match_any_bytes(std::string_view text, re2::StringPiece* groups, int ngroups) const {
  return run(any_bytes_code_, false, text, groups, ngroups);
}

Pcre2Pattern::Result Pcre2Pattern::run(void* code, bool jit, std::string_view text, re2::StringPiece* groups,
                                       int ngroups) const {
  ThreadState& ts = t_state;
  const auto need = static_cast<std::uint32_t>(std::max(ngroups, captures_ + 1));
  if (!ts.prepare(need)) return Result::kLimit;
  const std::uint64_t limit = kMatchLimitBase + std::uint64_t{kMatchLimitPerByte} * text.size();
  pcre2_set_match_limit(ts.context, static_cast<std::uint32_t>(
                                        std::min<std::uint64_t>(limit, std::numeric_limits<std::uint32_t>::max())));
  const char* base = text.data() != nullptr ? text.data() : "";  // a null base would read as "no capture"
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(base);
  // Valid UTF-8 was checked above (or PCRE2_MATCH_INVALID_UTF reads any bytes).
  int rc = jit ? pcre2_jit_match(as_code(code), subject, text.size(), 0, 0, ts.data, ts.context)
               : pcre2_match(as_code(code), subject, text.size(), 0, PCRE2_NO_UTF_CHECK, ts.data, ts.context);
  if (rc == PCRE2_ERROR_NOMATCH) return Result::kNoMatch;
  // A match, depth, heap or JIT stack limit, or anything else PCRE2 could
  // not finish: undecided, never a guess.
  if (rc < 0) return Result::kLimit;
  const int set = rc == 0 ? static_cast<int>(ts.pairs) : rc;  // 0: more groups than pairs (cannot happen)
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(ts.data);
  for (int k = 0; k < ngroups; ++k) {
    const PCRE2_SIZE from = ov[2 * k], to = ov[2 * k + 1];
    if (k < set && from != PCRE2_UNSET && from <= to && to <= text.size()) {
      groups[k] = re2::StringPiece(base + from, to - from);
    } else {
      groups[k] = re2::StringPiece();
    }
  }
  return Result::kMatch;
}

}  // namespace bifrost::filters::parse_regex
