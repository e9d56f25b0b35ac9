#include "expr/template.h"

#include <charconv>
#include <cstring>

#include "core/json.h"
#include "core/time.h"

namespace bifrost::expr {

namespace {
constexpr std::string_view kDirectives = "YymdeHIMSpjaAbBFTszZ";
const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                               "July",    "August",   "September", "October", "November", "December"};
const char* const kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

void put(std::string& out, int v, int width, char pad = '0') {
  char buf[16];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  for (int n = static_cast<int>(r.ptr - buf); n < width; ++n) out.push_back(pad);
  out.append(buf, r.ptr);
}
}  // namespace

std::variant<Template, ParseError> Template::parse(std::string_view text) {
  Template t;
  t.text_ = std::string(text);
  std::string lit;
  auto flush = [&] {
    if (!lit.empty()) t.segments_.push_back(Segment{Segment::Kind::kLiteral, std::move(lit), std::nullopt, 0});
    lit.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      std::size_t close = text.find("}}", i + 2);
      if (close == std::string_view::npos) return ParseError{i, "unclosed \"{{\""};
      std::string_view inner = text.substr(i + 2, close - i - 2);
      while (!inner.empty() && inner.front() == ' ') inner.remove_prefix(1);
      while (!inner.empty() && inner.back() == ' ') inner.remove_suffix(1);
      auto path = core::FieldPath::parse(inner);
      if (!path) return ParseError{i, "invalid field path \"" + std::string(inner) + "\" in {{...}}"};
      flush();
      t.segments_.push_back(Segment{Segment::Kind::kField, "", std::move(path), 0});
      t.constant_ = false;
      i = close + 1;
      continue;
    }
    if (c == '%') {
      if (i + 1 >= text.size()) return ParseError{i, "\"%\" at the end; write %% for a literal percent"};
      char d = text[i + 1];
      if (d == '%') {
        lit.push_back('%');
        ++i;
        continue;
      }
      if (kDirectives.find(d) == std::string_view::npos) {
        return ParseError{i, std::string("unknown time directive \"%") + d + "\"; write %% for a literal percent"};
      }
      flush();
      t.segments_.push_back(Segment{Segment::Kind::kTime, "", std::nullopt, d});
      t.constant_ = false;
      ++i;
      continue;
    }
    lit.push_back(c);
  }
  flush();
  return t;
}

const core::FieldPath* Template::single_field() const {
  if (segments_.size() == 1 && segments_[0].kind == Segment::Kind::kField) return &*segments_[0].path;
  return nullptr;
}

void append_value_text(std::string& out, const core::Value& v) {
  char buf[32];
  switch (v.kind()) {
    case core::Value::Kind::kNull: break;
    case core::Value::Kind::kBool: out.append(v.as_bool() ? "true" : "false"); break;
    case core::Value::Kind::kInt: {
      auto r = std::to_chars(buf, buf + sizeof buf, v.as_int());
      out.append(buf, r.ptr);
      break;
    }
    case core::Value::Kind::kDouble: {
      auto r = std::to_chars(buf, buf + sizeof buf, v.as_double());
      out.append(buf, r.ptr);
      break;
    }
    case core::Value::Kind::kString: out.append(v.as_string()); break;
    default: core::append_json_value(out, v);
  }
}

bool Template::render(const core::Event& e, std::string& out) const {
  bool complete = true;
  bool have_time = false;
  core::CivilTime t{};
  for (const Segment& s : segments_) {
    switch (s.kind) {
      case Segment::Kind::kLiteral: out.append(s.literal); break;
      case Segment::Kind::kField: {
        auto v = core::get_field(e, *s.path);
        if (!v) {
          complete = false;
          break;
        }
        if (s.path->root() == core::FieldPath::Root::kTimestamp) {
          char buf[core::kRfc3339NsLen];
          core::format_rfc3339_ns(e.timestamp_ns, buf);
          out.append(buf, sizeof buf);
        } else {
          append_value_text(out, *v);
        }
        break;
      }
      case Segment::Kind::kTime:
        if (!have_time) {
          t = core::civil_from_ns(e.timestamp_ns);
          have_time = true;
        }
        switch (s.directive) {
          case 'Y': put(out, t.year, 4); break;
          case 'y': put(out, t.year % 100, 2); break;
          case 'm': put(out, t.month, 2); break;
          case 'd': put(out, t.day, 2); break;
          case 'e': put(out, t.day, 2, ' '); break;
          case 'H': put(out, t.hour, 2); break;
          case 'I': put(out, t.hour % 12 == 0 ? 12 : t.hour % 12, 2); break;
          case 'M': put(out, t.minute, 2); break;
          case 'S': put(out, t.second, 2); break;
          case 'p': out.append(t.hour < 12 ? "AM" : "PM"); break;
          case 'j': put(out, t.yday + 1, 3); break;
          case 'a': out.append(kDays[t.wday], 3); break;
          case 'A': out.append(kDays[t.wday]); break;
          case 'b': out.append(kMonths[t.month - 1], 3); break;
          case 'B': out.append(kMonths[t.month - 1]); break;
          case 'F':
            put(out, t.year, 4);
            out.push_back('-');
            put(out, t.month, 2);
            out.push_back('-');
            put(out, t.day, 2);
            break;
          case 'T':
            put(out, t.hour, 2);
            out.push_back(':');
            put(out, t.minute, 2);
            out.push_back(':');
            put(out, t.second, 2);
            break;
          case 's': {
            char buf[24];
            std::int64_t secs = e.timestamp_ns / 1'000'000'000 - (e.timestamp_ns % 1'000'000'000 < 0);
            auto r = std::to_chars(buf, buf + sizeof buf, secs);
            out.append(buf, r.ptr);
            break;
          }
          case 'z': out.append("+0000"); break;
          case 'Z': out.append("UTC"); break;
        }
        break;
    }
  }
  return complete;
}

}  // namespace bifrost::expr
