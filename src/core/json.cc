#include "core/json.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#include <tmmintrin.h>  // SSSE3, used where the CPU has it
#endif
#if defined(__x86_64__)
#include <immintrin.h>  // AVX-512, used where the CPU has it
#endif

namespace bifrost::core {

namespace {

// Length of the valid UTF-8 sequence starting at p[0] (a byte >= 0x80),
// or 0 when it is not valid (overlong forms and surrogates included).
std::size_t utf8_sequence(const unsigned char* p, std::size_t avail) {
  unsigned char c = p[0];
  if (c >= 0xC2 && c <= 0xDF) {
    return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;  // overlong
    if (c == 0xED && p[1] > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;  // overlong
    if (c == 0xF4 && p[1] > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = utf8_sequence(p + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

namespace {

// Writes the escaped form of p[i] (a byte that is not plain printable ASCII,
// or a quote or backslash) and of the rest of its UTF-8 sequence; advances i.
inline char* escape_special(char* dst, const unsigned char* p, std::size_t& i, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  const unsigned char c = p[i];
  if (c >= 0x80) {
    std::size_t len = utf8_sequence(p + i, n - i);
    if (len != 0) {
      std::memcpy(dst, p + i, len);
      i += len;
      return dst + len;
    }
    std::memcpy(dst, "\xEF\xBF\xBD", 3);  // U+FFFD for one invalid byte
    ++i;
    return dst + 3;
  }
  ++i;
  *dst++ = '\\';
  switch (c) {
    case '"': *dst++ = '"'; break;
    case '\\': *dst++ = '\\'; break;
    case '\n': *dst++ = 'n'; break;
    case '\r': *dst++ = 'r'; break;
    case '\t': *dst++ = 't'; break;
    case '\b': *dst++ = 'b'; break;
    case '\f': *dst++ = 'f'; break;
    default:
      *dst++ = 'u';
      *dst++ = '0';
      *dst++ = '0';
      *dst++ = kHex[c >> 4];
      *dst++ = kHex[c & 15];
  }
  return dst;
}

// Copies p[0..k) to dst with a backslash before each byte whose bit is set
// in `mask` (the quotes and backslashes of a 16-byte block): no branch per
// byte, however many there are.
inline char* copy_backslashed(char* dst, const unsigned char* p, unsigned k, unsigned mask) {
  for (unsigned j = 0; j < k; ++j) {
    *dst = '\\';
    dst += (mask >> j) & 1;
    *dst++ = static_cast<char>(p[j]);
  }
  return dst;
}

// Whether a word of bytes holds one that needs escaping (a control
// character, a non-ASCII byte, a quote or a backslash), by the usual
// "has a zero byte" bit tricks, exact for the question "any?".
template <class Word>
constexpr Word special_bytes(Word v) {
  constexpr Word ones = static_cast<Word>(~Word{0}) / 0xFF;  // 0x0101...
  constexpr Word high = ones * 0x80;
  const Word quote = v ^ (ones * '"');
  const Word backslash = v ^ (ones * '\\');
  return (v | ((v - ones * 0x20) & ~v) | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash)) & high;
}

template <class Word>
Word load(const unsigned char* p) {
  Word w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// For 4 <= r < 16: whether p[0..r) needs no escaping (two overlapping loads).
inline bool plain_small(const unsigned char* p, std::size_t r) {
  if (r >= 8) return (special_bytes(load<std::uint64_t>(p)) | special_bytes(load<std::uint64_t>(p + r - 8))) == 0;
  return (special_bytes(load<std::uint32_t>(p)) | special_bytes(load<std::uint32_t>(p + r - 4))) == 0;
}

// For r < 4: whether p[0..r) needs no escaping.
inline bool plain_tiny(const unsigned char* p, std::size_t r) {
  for (std::size_t i = 0; i < r; ++i) {
    if (p[i] < 0x20 || p[i] >= 0x80 || p[i] == '"' || p[i] == '\\') return false;
  }
  return true;
}

// memcpy of 4 <= r < 16 bytes with two overlapping word copies.
inline void copy_small(char* dst, const unsigned char* p, std::size_t r) {
  if (r >= 8) {
    const auto a = load<std::uint64_t>(p), b = load<std::uint64_t>(p + r - 8);
    std::memcpy(dst, &a, 8);
    std::memcpy(dst + r - 8, &b, 8);
  } else {
    const auto a = load<std::uint32_t>(p), b = load<std::uint32_t>(p + r - 4);
    std::memcpy(dst, &a, 4);
    std::memcpy(dst + r - 4, &b, 4);
  }
}

#if defined(__SSE2__)
// For each mask of quotes and backslashes in 8 bytes: the pshufb control
// that spreads the 8 bytes out, with a zero (0x80) before each marked one
// where its backslash goes.
struct SpreadTable {
  alignas(16) unsigned char control[256][16];
  unsigned char length[256];  // 8 plus the backslashes (no popcnt on baseline x86-64)
  constexpr SpreadTable() : control{}, length{} {
    for (unsigned m = 0; m < 256; ++m) {
      unsigned o = 0;
      for (unsigned j = 0; j < 8; ++j) {
        if ((m >> j) & 1) control[m][o++] = 0x80;
        control[m][o++] = static_cast<unsigned char>(j);
      }
      length[m] = static_cast<unsigned char>(o);
      for (; o < 16; ++o) control[m][o] = 0x80;
    }
  }
};
constexpr SpreadTable kSpread;

// copy_backslashed for a whole 16-byte block, with SSSE3's byte shuffle:
// each 8-byte half is spread out in one step. Writes 16 bytes past the
// result at most (escape_into's room covers it).
[[gnu::target("ssse3")]] char* spread16_ssse3(char* dst, __m128i v, unsigned mask) {
  const __m128i gap = _mm_set1_epi8(static_cast<char>(0x80));
  const __m128i backslash = _mm_set1_epi8('\\');
  for (int half = 0; half < 2; ++half) {
    const unsigned m = (mask >> (8 * half)) & 0xFF;
    const __m128i ctl = _mm_load_si128(reinterpret_cast<const __m128i*>(kSpread.control[m]));
    const __m128i out = _mm_or_si128(_mm_shuffle_epi8(v, ctl), _mm_and_si128(_mm_cmpeq_epi8(ctl, gap), backslash));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), out);
    dst += kSpread.length[m];
    v = _mm_srli_si128(v, 8);
  }
  return dst;
}
#endif

// Escapes [p, p+n) into `dst`, which has room for 6*n bytes (the worst case,
// every byte as \u00XX). Returns the end of what was written.
template <bool kShuffle>
char* escape_blocks(char* dst, const unsigned char* p, std::size_t n) {
  std::size_t i = 0;
#if defined(__SSE2__)
  // 16 bytes at a time: plain ones are stored whole, quotes and backslashes
  // get their backslash without leaving the block; a control character or
  // a non-ASCII byte goes to escape_special.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  while (i + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const auto qb =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash))));
    // Signed compare: bytes >= 0x80 are negative, so `v < 0x20` catches both
    // control characters and non-ASCII bytes.
    const auto other = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmplt_epi8(v, space)));
    if ((qb | other) == 0) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), v);
      dst += 16;
      i += 16;
    } else if (other == 0) {
      if constexpr (kShuffle) {
        dst = spread16_ssse3(dst, v, qb);
      } else {
        dst = copy_backslashed(dst, p + i, 16, qb);
      }
      i += 16;
    } else {
      const auto k = static_cast<unsigned>(__builtin_ctz(other));
      dst = copy_backslashed(dst, p + i, k, qb);
      i += k;
      dst = escape_special(dst, p, i, n);
    }
  }
#endif
  // The rest, under 16 bytes (or the whole of a short string, like a key):
  // when nothing in it needs escaping, which is usual, it is checked and
  // copied with a few overlapping word loads.
  if (const std::size_t r = n - i; r >= 4 && r < 16 && plain_small(p + i, r)) {
    copy_small(dst, p + i, r);
    return dst + r;
  }
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
      dst = escape_special(dst, p, i, n);
    } else {
      *dst++ = static_cast<char>(c);
      ++i;
    }
  }
  return dst;
}

#if defined(__x86_64__)
// 32 bytes at a time with AVX-512: each byte is widened to 16 bits, a quote
// or backslash becomes the pair (backslash, byte), and one compress keeps the
// low byte of every pair and the high byte of the escaped ones. Up to the
// first control character or non-ASCII byte, which goes to escape_special
// (what the compress wrote past that point is written over). A whole block
// writes 64 bytes at dst at most, within escape_into's room (6 per byte);
// the last, shorter one is loaded and stored under a mask.
[[gnu::target("avx512f,avx512bw,avx512vl,avx512vbmi2,bmi2,popcnt")]] char* escape_avx512(char* dst,
                                                                                         const unsigned char* p,
                                                                                         std::size_t n) {
  const __m256i quote = _mm256_set1_epi8('"');
  const __m256i backslash = _mm256_set1_epi8('\\');
  const __m256i space = _mm256_set1_epi8(0x20);
  const __m512i backslash_low = _mm512_set1_epi16('\\');
  std::size_t i = 0;
  while (i < n) {
    const bool whole = n - i >= 32;
    const std::uint32_t in = whole ? ~std::uint32_t{0} : (std::uint32_t{1} << (n - i)) - 1;
    const __m256i v = _mm256_maskz_loadu_epi8(in, p + i);  // a masked-off byte is not read
    const std::uint32_t qb = _mm256_cmpeq_epi8_mask(v, quote) | _mm256_cmpeq_epi8_mask(v, backslash);
    const std::uint32_t other = _mm256_mask_cmplt_epi8_mask(in, v, space);  // signed: controls and bytes >= 0x80
    const unsigned len = whole ? 32 : static_cast<unsigned>(n - i);
    if ((qb | other) == 0) {
      _mm256_mask_storeu_epi8(dst, in, v);
      dst += len;
      i += len;
      continue;
    }
    const unsigned k = other == 0 ? len : static_cast<unsigned>(__builtin_ctz(other));
    const std::uint32_t marked = k == 32 ? qb : qb & ((std::uint32_t{1} << k) - 1);
    const __m512i wide = _mm512_cvtepu8_epi16(v);
    const __m512i pairs =
        _mm512_mask_mov_epi16(wide, marked, _mm512_or_si512(_mm512_slli_epi16(wide, 8), backslash_low));
    const std::uint64_t keep = _pdep_u64(marked, 0xAAAAAAAAAAAAAAAAull) | 0x5555555555555555ull;
    const unsigned out = k + static_cast<unsigned>(__builtin_popcount(marked));
    const std::uint64_t out_mask = whole ? ~std::uint64_t{0} : (std::uint64_t{1} << out) - 1;  // out < 64
    _mm512_mask_storeu_epi8(dst, out_mask, _mm512_maskz_compress_epi8(keep, pairs));
    dst += out;
    i += k;
    if (k < len) dst = escape_special(dst, p, i, n);
  }
  return dst;
}
#endif

// The fastest path the CPU has, limited by limit_json_escape (tests).
std::atomic<JsonEscape> escape_limit{JsonEscape::kAvx512};

JsonEscape cpu_escape() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt")) {
    return JsonEscape::kAvx512;
  }
#endif
#if defined(__SSE2__)
  if (__builtin_cpu_supports("ssse3")) return JsonEscape::kSsse3;
#endif
  return JsonEscape::kPortable;
}

// The path in use: the CPU's fastest, unless a test limits it.
JsonEscape escape_path() {
  static const JsonEscape cpu = cpu_escape();
  return std::max(cpu, escape_limit.load(std::memory_order_relaxed));
}

char* escape_into(char* dst, const unsigned char* p, std::size_t n) {
  const JsonEscape path = escape_path();
#if defined(__x86_64__)
  if (path == JsonEscape::kAvx512) return escape_avx512(dst, p, n);
#endif
#if defined(__SSE2__)
  if (path == JsonEscape::kSsse3) return escape_blocks<true>(dst, p, n);
#endif
  return escape_blocks<false>(dst, p, n);
}

// The shortest form of x that reads back as x, written as std::to_chars(x)
// writes it, for the numbers logs mostly carry: under 10^15 with at most 6
// decimals, where fixed notation is not longer than scientific. nullptr for
// any other (the caller uses std::to_chars, whose general path spends a
// division per digit it drops: 4% of parse_json's CPU for one double a line).
char* short_fixed_double(char* d, double x) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
  const double a = std::fabs(x);
  if (!(a >= 1e-6 && a < 1e15)) return nullptr;  // NaN and 0 too
  for (int k = 0; k <= 6; ++k) {
    const double y = a * kPow10[k];
    if (y >= 1e15) return nullptr;
    const double r = std::nearbyint(y);
    // r and 10^k are exact and r / 10^k is correctly rounded, as reading
    // the decimal back is: equal to a means it reads back as a. The first k
    // that does is the fewest digits; the nearest integer, the closest.
    if (r / kPow10[k] != a) continue;
    const auto m = static_cast<std::uint64_t>(r);
    char digits[24];
    int n = 0;
    for (std::uint64_t t = m; t != 0; t /= 10) digits[n++] = static_cast<char>('0' + t % 10);  // reversed
    int zeros = 0;  // trailing zeros, only when k is 0
    while (zeros < n - 1 && digits[zeros] == '0') ++zeros;
    const int significant = n - zeros;
    const int exponent = n - k - 1;
    const int fixed = k == 0 ? n : n > k ? n + 1 : k + 2;
    const int scientific = significant + (significant > 1 ? 1 : 0) + 2 + (exponent >= 100 || exponent <= -100 ? 3 : 2);
    if (scientific < fixed) return nullptr;  // to_chars takes the shorter, fixed on a tie
    if (x < 0) *d++ = '-';
    if (n <= k) {  // 0.000ddd
      *d++ = '0';
      *d++ = '.';
      for (int i = n; i < k; ++i) *d++ = '0';
      for (int i = n - 1; i >= 0; --i) *d++ = digits[i];
      return d;
    }
    for (int i = n - 1; i >= 0; --i) {
      *d++ = digits[i];
      if (i == k && k > 0) *d++ = '.';
    }
    return d;
  }
  return nullptr;
}

}  // namespace

void limit_json_escape(JsonEscape fastest) { escape_limit.store(fastest); }
JsonEscape json_escape_in_use() { return escape_path(); }

void JsonWriter::grow(std::size_t k) {
  std::size_t want = std::max(n_ + k, out_.capacity());
  if (want > out_.capacity()) want = std::max(want, 2 * out_.capacity());
  // Longer, not zeroed: the bytes past n_ are written before they count.
  out_.resize_and_overwrite(want, [](char*, std::size_t n) { return n; });
}

JsonWriter::~JsonWriter() {
  out_.resize_and_overwrite(n_, [](char*, std::size_t n) { return n; });
}

namespace {

// Writes `"s"` at d, which has room for 6n+2 bytes; returns the end.
inline char* quoted(char* d, const unsigned char* p, std::size_t n) {
  *d++ = '"';
  if (n >= 4 && n < 16 && plain_small(p, n)) {  // most keys and short values: no call
    copy_small(d, p, n);
    d += n;
  } else if (n < 4 && plain_tiny(p, n)) {
    for (std::size_t i = 0; i < n; ++i) *d++ = static_cast<char>(p[i]);
  } else {
    d = escape_into(d, p, n);
  }
  *d++ = '"';
  return d;
}

constexpr std::size_t kSegment = 64 * 1024;  // escaped at once; a longer string goes in segments

}  // namespace

void JsonWriter::key(char before, std::string_view k) {
  if (k.size() > kSegment) {
    put(before);
    string(k);
    put(':');
    return;
  }
  char* d = room(k.size() * 6 + 4);  // one check for room: separator, quotes and colon
  *d++ = before;
  d = quoted(d, reinterpret_cast<const unsigned char*>(k.data()), k.size());
  *d++ = ':';
  done(d);
}

void JsonWriter::string(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  if (n <= kSegment) {  // the usual case, keys and lines alike: one check for room, quotes included
    done(quoted(room(n * 6 + 2), p, n));
    return;
  }
  // Escape segment by segment, so a huge line never needs room for 6x its
  // size. A segment boundary must not split a UTF-8 sequence: move it back
  // to a lead byte (at most 3 steps).
  put('"');
  std::size_t i = 0;
  while (i < n) {
    std::size_t end = std::min(n, i + kSegment);
    if (end < n) {
      std::size_t back = 0;
      while (back < 3 && end - back > i && (p[end - back] & 0xC0) == 0x80) ++back;
      end -= back;
    }
    done(escape_into(room((end - i) * 6), p + i, end - i));
    i = end;
  }
  put('"');
}

void JsonWriter::value(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: raw("null"); break;
    case Value::Kind::kBool: raw(v.as_bool() ? std::string_view("true") : std::string_view("false")); break;
    case Value::Kind::kInt: {
      char* d = room(24);
      done(std::to_chars(d, d + 24, v.as_int()).ptr);
      break;
    }
    case Value::Kind::kDouble: {
      const double x = v.as_double();
      if (!std::isfinite(x)) {
        raw("null");  // JSON has no NaN or infinity
        break;
      }
      char* d = room(32);
      char* end = short_fixed_double(d, x);
      if (end == nullptr) end = std::to_chars(d, d + 30, x).ptr;
      // Keep a double a double when read back: 3 -> 3.0
      const auto len = static_cast<std::size_t>(end - d);
      if (std::memchr(d, '.', len) == nullptr && std::memchr(d, 'e', len) == nullptr) {
        *end++ = '.';
        *end++ = '0';
      }
      done(end);
      break;
    }
    case Value::Kind::kString: string(v.as_string()); break;
    case Value::Kind::kArray: {
      if (v.shared()) {
        raw(v.frozen_json());
        break;
      }
      put('[');
      bool first = true;
      for (const Value& item : v.items()) {
        if (!first) put(',');
        first = false;
        value(item);
      }
      put(']');
      break;
    }
    case Value::Kind::kObject: {
      if (v.shared()) {
        raw(v.frozen_json());
        break;
      }
      char before = '{';
      for (const Member& m : v.members()) {
        key(before, m.key);
        before = ',';
        value(m.value);
      }
      if (before == '{') put('{');  // empty
      put('}');
      break;
    }
  }
}

void JsonWriter::event(const Event& e, Rfc3339Cache& time_cache) {
  raw("{\"@timestamp\":\"");
  raw({time_cache.format(e.timestamp_ns), kRfc3339NsLen});
  raw("\",\"message\":");
  string(e.message);
  if (e.fields.is_object()) {
    for (const Member& m : e.fields.members()) {
      key(',', m.key);
      value(m.value);
    }
  }
  put('}');
}

void append_json_string(std::string& out, std::string_view s) { JsonWriter(out).string(s); }
void append_json_value(std::string& out, const Value& v) { JsonWriter(out).value(v); }
void append_event_json(std::string& out, const Event& e, Rfc3339Cache& time_cache) {
  JsonWriter(out).event(e, time_cache);
}

}  // namespace bifrost::core
