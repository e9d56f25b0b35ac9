#include "filters/parse_regex/linear_pattern.h"

#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace bifrost::filters::parse_regex {

namespace {

using CharSet = LinearPattern::CharSet;
using Item = LinearPattern::Item;
using Seq = LinearPattern::Seq;

constexpr std::uint32_t kUnbounded = std::numeric_limits<std::uint32_t>::max();

CharSet range(unsigned lo, unsigned hi) {
  CharSet s;
  for (unsigned c = lo; c <= hi; ++c) s.set(c);
  return s;
}

CharSet digits() { return range('0', '9'); }
CharSet spaces() {  // Perl's and PCRE2's \s, which RE2 is given too (syntax.h): [\t\n\v\f\r ]
  CharSet s;
  for (unsigned char c : {'\t', '\n', '\v', '\f', '\r', ' '}) s.set(c);
  return s;
}
CharSet word() { return range('0', '9') | range('A', 'Z') | range('a', 'z') | range('_', '_'); }

bool is_ascii_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// Parses the subset; nothing when the pattern leaves it.
class Parser {
 public:
  explicit Parser(std::string_view p) : p_(p) {}

  bool at_end() const { return i_ >= p_.size(); }
  bool eat(char c) {
    if (i_ < p_.size() && p_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool eat(std::string_view s) {
    if (p_.substr(i_).starts_with(s)) {
      i_ += s.size();
      return true;
    }
    return false;
  }
  char peek() const { return i_ < p_.size() ? p_[i_] : '\0'; }
  std::size_t pos() const { return i_; }
  std::size_t size() const { return p_.size(); }

  // seq := item* ; stops before '|', ')' or a final '$'.
  bool seq(Seq& out, int depth) {
    while (!at_end() && peek() != '|' && peek() != ')') {
      if (peek() == '$') return depth == 0 && i_ + 1 == p_.size();  // only a final $, outside groups
      Item item;
      if (!this->item(item, depth)) return false;
      out.items.push_back(std::move(item));
    }
    return true;
  }

  int captures = 0;

 private:
  bool item(Item& it, int depth) {
    if (peek() == '(') {
      if (depth > 32) return false;
      ++i_;
      it.group = true;
      if (eat("?P<")) {
        while (!at_end() && peek() != '>') ++i_;
        if (!eat('>')) return false;
        it.capture = ++captures;
      } else if (eat("?:")) {
      } else if (peek() == '?') {
        return false;  // flags, lookaround (RE2 has none), other forms
      } else {
        it.capture = ++captures;
      }
      do {
        Seq s;
        if (!seq(s, depth + 1)) return false;
        it.alts.push_back(std::move(s));
      } while (eat('|'));
      if (!eat(')')) return false;
      return !quantifier_follows();  // a quantified group may backtrack: RE2's
    }
    if (!atom(it.set)) return false;
    for (unsigned b = 0; b < 256; ++b) it.table[b] = it.set[b] ? (b >= 0x80 ? 2 : 1) : 0;
    std::size_t nstops = 0;
    for (unsigned b = 0; b < 0x80 && nstops <= it.stops.size(); ++b) {
      if (!it.set[b] && nstops++ < it.stops.size()) it.stops[nstops - 1] = static_cast<char>(b);
    }
    it.few_stops = nstops >= 1 && nstops <= it.stops.size();
    for (std::size_t k = nstops; it.few_stops && k < it.stops.size(); ++k) it.stops[k] = it.stops[0];
    return quantifier(it);
  }

  bool quantifier_follows() const {
    char c = peek();
    return c == '*' || c == '+' || c == '?' || c == '{';
  }

  bool quantifier(Item& it) {
    if (eat('*')) {
      it.min = 0, it.max = kUnbounded;
    } else if (eat('+')) {
      it.min = 1, it.max = kUnbounded;
    } else if (eat('?')) {
      it.min = 0, it.max = 1;
    } else if (peek() == '{') {
      std::size_t save = i_;
      ++i_;
      auto number = [&](std::uint32_t& v) {
        if (at_end() || peek() < '0' || peek() > '9') return false;
        v = 0;
        while (!at_end() && peek() >= '0' && peek() <= '9') {
          v = v * 10 + static_cast<std::uint32_t>(peek() - '0');
          if (v > 1000) return false;  // RE2's own limit on repeats
          ++i_;
        }
        return true;
      };
      if (!number(it.min)) {
        i_ = save;  // a literal '{' for RE2 too? keep it simple: not ours
        return false;
      }
      it.max = it.min;
      if (eat(',')) {
        it.max = kUnbounded;
        if (peek() != '}' && !number(it.max)) return false;
      }
      if (!eat('}') || it.max < it.min) return false;
    } else {
      return true;
    }
    return !quantifier_follows();  // lazy (x*?) or stacked quantifiers: RE2's
  }

  // One character class or literal byte, as a set.
  bool atom(CharSet& set) {
    char c = peek();
    if (c == '\0' && at_end()) return false;
    if (c == '[') return bracket(set);
    if (c == '.') {
      ++i_;
      set = ~CharSet();
      set.reset('\n');
      return true;
    }
    if (c == '\\') {
      ++i_;
      return escape(set);
    }
    if (c == '^' || c == '$' || c == '*' || c == '+' || c == '?' || c == '{' || c == '}' || c == '|' || c == ')' ||
        static_cast<unsigned char>(c) >= 0x80) {
      return false;
    }
    ++i_;
    set.reset();
    set.set(static_cast<unsigned char>(c));
    return true;
  }

  bool escape(CharSet& set) {
    if (at_end()) return false;
    char c = p_[i_++];
    set.reset();
    switch (c) {
      case 'd': set = digits(); return true;
      case 'D': set = ~digits(); return true;
      case 's': set = spaces(); return true;
      case 'S': set = ~spaces(); return true;
      case 'w': set = word(); return true;
      case 'W': set = ~word(); return true;
      case 't': set.set('\t'); return true;
      case 'n': set.set('\n'); return true;
      case 'r': set.set('\r'); return true;
      case 'f': set.set('\f'); return true;
      default:
        if (is_ascii_alnum(c) || static_cast<unsigned char>(c) >= 0x80) return false;  // \b \A \x.. \p..: RE2's
        set.set(static_cast<unsigned char>(c));  // an escaped punctuation character
        return true;
    }
  }

  bool bracket(CharSet& set) {
    ++i_;  // '['
    bool negate = eat('^');
    set.reset();
    bool first = true;
    while (true) {
      if (at_end()) return false;
      char c = peek();
      if (c == ']' && !first) {
        ++i_;
        break;
      }
      first = false;
      if (c == '[') return false;  // [[:alpha:]] and the like: RE2's
      CharSet one;
      unsigned lo;
      if (c == '\\') {
        ++i_;
        if (!escape(one)) return false;
        if (one.count() != 1) {  // a class inside: no range from it
          if (peek() == '-' && i_ + 1 < p_.size() && p_[i_ + 1] != ']') return false;
          set |= one;
          continue;
        }
        lo = 0;
        while (!one.test(lo)) ++lo;
      } else {
        if (static_cast<unsigned char>(c) >= 0x80) return false;
        ++i_;
        lo = static_cast<unsigned char>(c);
      }
      if (peek() == '-' && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
        ++i_;
        char h = peek();
        unsigned hi;
        if (h == '\\') {
          ++i_;
          CharSet e;
          if (!escape(e) || e.count() != 1) return false;
          hi = 0;
          while (!e.test(hi)) ++hi;
        } else {
          if (static_cast<unsigned char>(h) >= 0x80 || h == '[') return false;
          ++i_;
          hi = static_cast<unsigned char>(h);
        }
        if (hi < lo) return false;
        set |= range(lo, hi);
      } else {
        set.set(lo);
      }
    }
    if (negate) set = ~set;  // RE2's [^...] takes \n too (no never_nl here)
    return set.any();
  }

  std::string_view p_;
  std::size_t i_ = 0;
};

bool nullable(const Item& it);

bool nullable(const Seq& s, std::size_t from = 0) {
  for (std::size_t k = from; k < s.items.size(); ++k) {
    if (!nullable(s.items[k])) return false;
  }
  return true;
}

bool nullable(const Item& it) {
  if (!it.group) return it.min == 0;
  for (const Seq& a : it.alts) {
    if (nullable(a)) return true;
  }
  return false;
}

CharSet first(const Item& it);

// The bytes a match of s.items[from..] can start with.
CharSet first(const Seq& s, std::size_t from = 0) {
  CharSet f;
  for (std::size_t k = from; k < s.items.size(); ++k) {
    f |= first(s.items[k]);
    if (!nullable(s.items[k])) break;
  }
  return f;
}

CharSet first(const Item& it) {
  if (!it.group) return it.max == 0 ? CharSet() : it.set;
  CharSet f;
  for (const Seq& a : it.alts) f |= first(a);
  return f;
}

// Proves that every choice in `s` is decided by the next byte, given that
// what follows `s` starts with a byte of `follow`.
bool deterministic(Seq& s, const CharSet& follow) {
  for (std::size_t k = 0; k < s.items.size(); ++k) {
    Item& it = s.items[k];
    CharSet after = first(s, k + 1);
    if (nullable(s, k + 1)) after |= follow;
    if (!it.group) {
      if (it.min != it.max && (it.set & after).any()) return false;  // the run could give back bytes
      continue;
    }
    if (it.alts.size() > 1) {
      CharSet seen;
      for (const Seq& a : it.alts) {
        CharSet f = first(a);
        if (nullable(a) || (f & seen).any()) return false;
        seen |= f;
        it.alt_first.push_back(f);
      }
    }
    for (Seq& a : it.alts) {
      if (!deterministic(a, after)) return false;
    }
  }
  return true;
}

}  // namespace

std::optional<LinearPattern> LinearPattern::compile(std::string_view pattern) {
  Parser parser(pattern);
  if (!parser.eat('^')) return std::nullopt;  // a search from every position: RE2's DFA does that well
  LinearPattern lp;
  if (!parser.seq(lp.root_, 0)) return std::nullopt;
  if (parser.eat('$')) lp.end_anchor_ = true;
  if (!parser.at_end()) return std::nullopt;
  // Without $, the match may end anywhere: nothing follows it. With $, only
  // the end of the text does, which no byte is.
  if (!deterministic(lp.root_, CharSet())) return std::nullopt;
  lp.captures_ = parser.captures;
  return lp;
}

bool LinearPattern::match_seq(const Seq& s, std::string_view text, std::size_t& pos, re2::StringPiece* groups,
                              int ngroups, bool& undecided) const {
  const std::size_t n = text.size();
  const auto* t = reinterpret_cast<const unsigned char*>(text.data());
  for (const Item& it : s.items) {
    if (!it.group) {
      const std::size_t limit = it.max >= n - pos ? n : pos + it.max;
      const std::size_t from = pos;
#if defined(__SSE2__)
      if (it.few_stops) {  // 16 bytes at a time up to a stop byte or one >= 0x80
        const __m128i s0 = _mm_set1_epi8(it.stops[0]), s1 = _mm_set1_epi8(it.stops[1]), s2 = _mm_set1_epi8(it.stops[2]),
                      s3 = _mm_set1_epi8(it.stops[3]), s4 = _mm_set1_epi8(it.stops[4]), s5 = _mm_set1_epi8(it.stops[5]);
        while (pos + 16 <= limit) {
          const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t + pos));
          const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, s0), _mm_cmpeq_epi8(v, s1)),
                                                        _mm_or_si128(_mm_cmpeq_epi8(v, s2), _mm_cmpeq_epi8(v, s3))),
                                           _mm_or_si128(_mm_cmpeq_epi8(v, s4), _mm_cmpeq_epi8(v, s5)));
          const int mask = _mm_movemask_epi8(hit) | _mm_movemask_epi8(v);  // v's sign bits: bytes >= 0x80
          if (mask != 0) {
            pos += static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
            break;
          }
          pos += 16;
        }
      }
#endif
      while (pos < limit && it.table[t[pos]] == 1) ++pos;
      if (pos < limit && it.table[t[pos]] == 2) {  // RE2 takes runes here, and refuses invalid UTF-8: its call
        undecided = true;
        return false;
      }
      if (pos - from < it.min) return false;
      continue;
    }
    const std::size_t start = pos;
    const Seq* alt = &it.alts[0];
    if (it.alts.size() > 1) {
      alt = nullptr;
      if (pos < n) {
        for (std::size_t a = 0; a < it.alts.size(); ++a) {
          if (it.alt_first[a][t[pos]]) {
            alt = &it.alts[a];
            break;
          }
        }
      }
      if (alt == nullptr) return false;
    }
    if (!match_seq(*alt, text, pos, groups, ngroups, undecided)) return false;
    if (it.capture >= 0 && it.capture < ngroups)
      groups[it.capture] = re2::StringPiece(text.data() + start, pos - start);
  }
  return true;
}

LinearPattern::Result LinearPattern::match(std::string_view text, re2::StringPiece* groups, int ngroups) const {
  for (int k = 0; k < ngroups; ++k) groups[k] = re2::StringPiece();
  std::size_t pos = 0;
  bool undecided = false;
  if (!match_seq(root_, text, pos, groups, ngroups, undecided)) {
    return undecided ? Result::kUndecided : Result::kNoMatch;
  }
  if (end_anchor_ && pos != text.size()) return Result::kNoMatch;
  if (ngroups > 0) groups[0] = re2::StringPiece(text.data(), pos);
  return Result::kMatch;
}

}  // namespace bifrost::filters::parse_regex
