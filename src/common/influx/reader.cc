#include "common/influx/reader.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "core/strings.h"

namespace bifrost::common::influx {

const char* reason(Errc e) {
  switch (e) {
    case Errc::kNoFields: return "no_fields";
    case Errc::kUnterminatedString: return "unterminated_string";
    case Errc::kBadValue: return "bad_value";
    case Errc::kBadTime: return "bad_time";
    case Errc::kBadSyntax: return "bad_syntax";
  }
  return "bad_syntax";
}

namespace {

enum Kind : std::uint8_t { kMeasurement, kTagKey, kTagValue, kFieldKey, kKinds };

// Per kind of name: the bytes that end it (unescaped), and the bytes a
// backslash escapes in it (InfluxDB 1.x's unescaping, checked against the
// real server: a measurement unescapes `\=` and `\"` too, a tag neither of
// `\"`).
struct Tables {
  std::array<std::array<bool, 256>, kKinds> stop{};
  std::array<std::array<bool, 256>, kKinds> escapes{};
};

constexpr Tables make_tables() {
  Tables t;
  for (int k = 0; k < kKinds; ++k) {
    t.stop[k]['\n'] = t.stop[k][','] = t.stop[k][' '] = true;
    t.escapes[k][','] = t.escapes[k][' '] = t.escapes[k]['='] = true;
    if (k != kMeasurement) t.stop[k]['='] = true;
    if (k == kMeasurement || k == kFieldKey) t.escapes[k]['"'] = true;
  }
  return t;
}
constexpr Tables kTables = make_tables();

bool is_space(char c) { return c == ' ' || c == '\t'; }

struct Fault {
  Errc code;
  const char* at;  // the line ends at the first newline from here
};

class LineParser {
 public:
  LineParser(const char* p, const char* end, std::int64_t unit, core::Arena& arena)
      : p_(p), end_(end), unit_(unit), arena_(arena) {}

  // Parses the line starting at the cursor; on success the cursor is at its
  // newline (or the end).
  std::optional<Fault> parse(Point& out) {
    out.measurement = name(kMeasurement);
    if (out.measurement.empty()) return Fault{Errc::kBadSyntax, p_};
    out.tags = core::Value::object(arena_, 4);
    core::ObjectBuilder tags(out.tags, arena_, 0);
    while (p_ < end_ && *p_ == ',') {
      ++p_;
      std::string_view key = name(kTagKey);
      if (p_ == end_ || *p_ != '=' || key.empty()) return Fault{Errc::kBadSyntax, p_};
      ++p_;
      std::string_view value = name(kTagValue);
      if (value.empty() || (p_ < end_ && *p_ == '=')) return Fault{Errc::kBadSyntax, p_};
      tags.set(key, core::Value::string(value));
    }
    skip_spaces();
    if (at_line_end()) return Fault{Errc::kNoFields, p_};
    out.fields = core::Value::object(arena_, 4);
    core::ObjectBuilder fields(out.fields, arena_, 0);
    for (bool first = true;; first = false) {
      std::string_view key = name(kFieldKey);
      if (p_ == end_ || *p_ != '=') return Fault{first ? Errc::kNoFields : Errc::kBadSyntax, p_};
      if (key.empty()) return Fault{Errc::kBadSyntax, p_};
      ++p_;
      core::Value v;
      if (auto f = field_value(v)) return f;
      fields.set(key, v);
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      if (at_line_end() || *p_ == ' ') break;
      return Fault{Errc::kBadValue, p_};  // "a"x
    }
    skip_spaces();
    out.time_ns.reset();
    if (at_line_end()) return std::nullopt;
    const char* start = p_;
    while (p_ < end_ && !is_space(*p_) && !at_line_end()) ++p_;
    const char* stop = p_;
    skip_spaces();
    if (!at_line_end()) return Fault{Errc::kBadTime, start};  // more after the time
    std::int64_t t = 0;
    auto r = std::from_chars(start, stop, t);
    if (r.ec != std::errc() || r.ptr != stop || __builtin_mul_overflow(t, unit_, &t)) {
      return Fault{Errc::kBadTime, start};
    }
    out.time_ns = t;
    return std::nullopt;
  }

  const char* cursor() const { return p_; }

 private:
  // The end of the line: a newline, the end of the text, or a CR before either.
  bool at_line_end() const { return p_ == end_ || *p_ == '\n' || (*p_ == '\r' && (p_ + 1 == end_ || p_[1] == '\n')); }
  void skip_spaces() {
    while (p_ < end_ && is_space(*p_)) ++p_;
  }

  std::string_view name(Kind k) {
    const char* start = p_;
    bool escaped = false;
    const auto& stop = kTables.stop[k];
    const auto& escapes = kTables.escapes[k];
    while (p_ < end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '\\' && p_ + 1 < end_ && escapes[static_cast<unsigned char>(p_[1])]) {
        escaped = true;
        p_ += 2;
        continue;
      }
      if (stop[c]) break;
      ++p_;
    }
    std::string_view raw(start, static_cast<std::size_t>(p_ - start));
    if (!escaped) return raw;
    char* out = static_cast<char*>(arena_.allocate(raw.size(), 1));
    std::size_t n = 0;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 1 < raw.size() && escapes[static_cast<unsigned char>(raw[i + 1])]) ++i;
      out[n++] = raw[i];
    }
    return {out, n};
  }

  std::optional<Fault> field_value(core::Value& v) {
    if (p_ < end_ && *p_ == '"') return string_value(v);
    const char* start = p_;
    while (p_ < end_ && *p_ != ',' && *p_ != ' ' && !at_line_end()) ++p_;  // a tab is no separator here
    std::string_view t(start, static_cast<std::size_t>(p_ - start));
    if (t.empty()) return Fault{Errc::kBadValue, start};
    const char last = t.back();
    if (last == 'i') {
      std::int64_t i = 0;
      auto r = std::from_chars(t.data(), t.data() + t.size() - 1, i);
      if (t.size() == 1 || r.ec != std::errc() || r.ptr != t.data() + t.size() - 1)
        return Fault{Errc::kBadValue, start};
      v = core::Value::integer(i);
      return std::nullopt;
    }
    if (last == 'u') {
      std::uint64_t u = 0;
      auto r = std::from_chars(t.data(), t.data() + t.size() - 1, u);
      if (t.size() == 1 || r.ec != std::errc() || r.ptr != t.data() + t.size() - 1)
        return Fault{Errc::kBadValue, start};
      v = core::Value::unsigned_integer(u, arena_);
      return std::nullopt;
    }
    const char first = t.front();
    if (first == 't' || first == 'T' || first == 'f' || first == 'F') {
      if (t == "t" || t == "T" || t == "true" || t == "True" || t == "TRUE") {
        v = core::Value::boolean(true);
      } else if (t == "f" || t == "F" || t == "false" || t == "False" || t == "FALSE") {
        v = core::Value::boolean(false);
      } else {
        return Fault{Errc::kBadValue, start};
      }
      return std::nullopt;
    }
    // A float: digits, sign, point and exponent only (from_chars would also
    // take inf and nan, which InfluxDB refuses).
    for (char c : t) {
      if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) {
        return Fault{Errc::kBadValue, start};
      }
    }
    double d = 0;
    auto r = std::from_chars(t.data(), t.data() + t.size(), d);
    if (first == '+' || r.ec != std::errc() || r.ptr != t.data() + t.size() || !std::isfinite(d)) {
      return Fault{Errc::kBadValue, start};
    }
    v = core::Value::number(d);
    return std::nullopt;
  }

  std::optional<Fault> string_value(core::Value& v) {
    const char* open = p_++;
    const char* start = p_;
    bool escaped = false;
    while (p_ < end_ && *p_ != '"') {
      if (*p_ == '\\' && p_ + 1 < end_ && (p_[1] == '"' || p_[1] == '\\')) {
        escaped = true;
        p_ += 2;
      } else {
        ++p_;
      }
    }
    if (p_ == end_) return Fault{Errc::kUnterminatedString, open};
    std::string_view raw(start, static_cast<std::size_t>(p_ - start));
    ++p_;  // the closing quote
    if (!escaped) {
      v = core::Value::string(raw);
      return std::nullopt;
    }
    char* out = static_cast<char*>(arena_.allocate(raw.size(), 1));
    std::size_t n = 0;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 1 < raw.size() && (raw[i + 1] == '"' || raw[i + 1] == '\\')) ++i;
      out[n++] = raw[i];
    }
    v = core::Value::string({out, n});
    return std::nullopt;
  }

  const char* p_;
  const char* end_;
  std::int64_t unit_;
  core::Arena& arena_;
};

const char* newline_from(const char* p, const char* end) {
  const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
  return nl ? static_cast<const char*>(nl) : end;
}

std::string_view line_text(const char* start, const char* eol) {
  if (eol > start && eol[-1] == '\r') --eol;
  return {start, static_cast<std::size_t>(eol - start)};
}

}  // namespace

std::optional<Line> Reader::next() {
  while (p_ < end_) {
    while (p_ < end_ && (is_space(*p_) || *p_ == '\r')) ++p_;
    if (p_ == end_) break;
    if (*p_ == '\n') {
      ++p_;
      continue;
    }
    if (*p_ == '#') {
      p_ = newline_from(p_, end_);
      continue;
    }
    const char* start = p_;
    LineParser parser(p_, end_, unit_, arena_);
    Point point;
    if (auto fault = parser.parse(point)) {
      const char* eol = newline_from(fault->at, end_);
      p_ = eol == end_ ? end_ : eol + 1;
      std::string_view text = line_text(start, eol);
      return Line{text, core::fail(fault->code, core::cat(reason(fault->code), " at column ", fault->at - start + 1))};
    }
    const char* eol = newline_from(parser.cursor(), end_);
    p_ = eol == end_ ? end_ : eol + 1;
    return Line{line_text(start, eol), std::move(point)};
  }
  return std::nullopt;
}

}  // namespace bifrost::common::influx
