#include "common/influx/writer.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <span>

#include "core/json.h"

namespace bifrost::common::influx {

namespace {
// Writes a name so that InfluxDB (and reader.h) reads back exactly `s`: a
// backslash before a character the name's kind unescapes is removed by the
// reader, so `delimiters` (which would end the name) are always escaped, and
// `after_backslash` (unescaped too, but no delimiter) only where a backslash
// of `s` comes right before them. A newline cannot be in a name: it is
// written as `\n`, as Telegraf does (read back as those two characters).
// Tabs, CRs and form feeds are written as they are: InfluxDB keeps them.
enum : std::uint8_t { kPlain, kDelimiter, kAfterBackslash, kNewline };
using NameTable = std::array<std::uint8_t, 256>;

constexpr NameTable name_table(std::string_view delimiters, std::string_view after_backslash) {
  NameTable t{};
  for (char c : delimiters) t[static_cast<unsigned char>(c)] = kDelimiter;
  for (char c : after_backslash) t[static_cast<unsigned char>(c)] = kAfterBackslash;
  t['\n'] = kNewline;
  return t;
}
constexpr NameTable kMeasurement = name_table(", ", "=\"");
constexpr NameTable kTag = name_table(",= ", "");
constexpr NameTable kFieldKey = name_table(",= ", "\"");

void append_name(std::string& out, std::string_view s, const NameTable& table) {
  std::size_t plain = 0;  // the start of the bytes not yet appended
  for (std::size_t i = 0; i < s.size(); ++i) {
    const std::uint8_t cls = table[static_cast<unsigned char>(s[i])];
    if (cls == kPlain || (cls == kAfterBackslash && (i == 0 || s[i - 1] != '\\'))) continue;
    out.append(s.data() + plain, i - plain);
    if (cls == kNewline) {
      out.append("\\n");
    } else {
      out.push_back('\\');
      out.push_back(s[i]);
    }
    plain = i + 1;
  }
  out.append(s.data() + plain, s.size() - plain);
}
}  // namespace

void append_measurement(std::string& out, std::string_view s) { append_name(out, s, kMeasurement); }
void append_key(std::string& out, std::string_view s) { append_name(out, s, kTag); }
void append_field_key(std::string& out, std::string_view s) { append_name(out, s, kFieldKey); }

void append_string_field(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

bool append_field_value(std::string& out, const core::Value& v) {
  char buf[32];
  switch (v.kind()) {
    case core::Value::Kind::kNull: return false;
    case core::Value::Kind::kBool: out.append(v.as_bool() ? "true" : "false"); return true;
    case core::Value::Kind::kInt: {
      auto r = std::to_chars(buf, buf + sizeof buf, v.as_int());
      out.append(buf, r.ptr);
      out.push_back(v.is_unsigned() ? 'u' : 'i');
      return true;
    }
    case core::Value::Kind::kDouble: {
      double d = v.as_double();
      if (!std::isfinite(d)) return false;
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      out.append(buf, r.ptr);
      return true;
    }
    case core::Value::Kind::kString:
      if (v.is_unsigned()) {  // a uint64 above INT64_MAX, as its digits
        out.append(v.as_string());
        out.push_back('u');
      } else {
        append_string_field(out, v.as_string());
      }
      return true;
    default: {
      std::string json;
      core::append_json_value(json, v);
      append_string_field(out, json);
      return true;
    }
  }
}

bool writable_name(std::string_view s) { return !s.empty() && s.back() != '\\'; }

namespace {
// A tag value as text: strings as they are, other scalars as their JSON.
bool tag_text(const core::Value& v, std::string& out) {
  out.clear();
  switch (v.kind()) {
    case core::Value::Kind::kNull: return false;
    case core::Value::Kind::kString: out.assign(v.as_string()); break;
    default: core::append_json_value(out, v); break;
  }
  return !out.empty();
}
}  // namespace

core::Result<void, WriteError> append_point(std::string& out, const Point& p, Precision precision,
                                            std::string& scratch) {
  const std::size_t start = out.size();
  auto refuse = [&](const char* why) {
    out.resize(start);
    return core::fail(WriteErrc::kNotAPoint, why);
  };
  if (!writable_name(p.measurement)) {
    return refuse(p.measurement.empty() ? "the measurement is empty"
                                        : "the measurement ends in a backslash, which line protocol cannot hold");
  }
  if (p.measurement.front() == '#' || p.measurement.front() == '\t' || p.measurement.front() == '\r') {
    // A line starting so is a comment, or its whitespace is skipped.
    return refuse("the measurement starts with '#', a tab or a CR, which line protocol cannot hold");
  }
  append_measurement(out, p.measurement);
  if (p.tags.is_object()) {
    for (const core::Member& m : p.tags.members()) {
      if (!tag_text(m.value, scratch)) continue;  // line protocol has no empty tag values
      if (!writable_name(m.key)) return refuse("a tag key is empty or ends in a backslash");
      if (scratch.back() == '\\') return refuse("a tag value ends in a backslash, which line protocol cannot hold");
      out.push_back(',');
      append_key(out, m.key);
      out.push_back('=');
      append_key(out, scratch);
    }
  }
  bool any = false;
  std::size_t first = 0;  // the first field written
  auto field = [&](const core::Member& m) {
    const std::size_t before = out.size();
    out.push_back(any ? ',' : ' ');
    append_field_key(out, m.key);
    out.push_back('=');
    if (append_field_value(out, m.value)) {
      any = true;
    } else {
      out.resize(before);
    }
  };
  const std::span<const core::Member> fields =
      p.fields.is_object() ? p.fields.members() : std::span<const core::Member>();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (!writable_name(fields[i].key)) return refuse("a field key is empty or ends in a backslash");
    // InfluxDB skips whitespace before the first field: a key starting with
    // a tab cannot come first, so it follows the first that can.
    if (!any && fields[i].key.front() == '\t') continue;
    if (!any) first = i;
    field(fields[i]);
  }
  for (std::size_t i = 0; any && i < first; ++i) {
    if (fields[i].key.front() == '\t') field(fields[i]);
  }
  if (!any) {
    bool tabbed = false;
    for (const core::Member& m : fields) tabbed |= m.key.front() == '\t';
    return refuse(tabbed ? "every field key starts with a tab, which InfluxDB would skip before the first"
                         : "no field to write (line protocol needs one)");
  }
  if (p.time_ns) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, *p.time_ns / unit_ns(precision)).ptr;
    out.push_back(' ');
    out.append(digits, end);
  }
  out.push_back('\n');
  return {};
}

}  // namespace bifrost::common::influx
