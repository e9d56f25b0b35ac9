// RFC 5424:
//   <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP
//   STRUCTURED-DATA [SP MSG]
#include <cstring>

#include "inputs/common/rfc3339.h"
#include "inputs/syslog/message.h"

namespace bifrost::inputs::syslog {

namespace {

bool printable(char c) { return c >= 33 && c <= 126; }

// The next header field (1*PRINTUSASCII up to SP); false when empty or the
// line ends before the SP (every field before STRUCTURED-DATA needs one).
bool field(std::string_view s, std::size_t& pos, std::string_view& out) {
  std::size_t start = pos;
  while (pos < s.size() && printable(s[pos])) ++pos;
  if (pos == start || pos >= s.size() || s[pos] != ' ') return false;
  out = s.substr(start, pos - start);
  ++pos;
  if (out == "-") out = {};
  return true;
}

bool sd_name_char(char c) { return printable(c) && c != '=' && c != ']' && c != '"'; }

}  // namespace

std::size_t walk_structured_data(std::string_view s, SdVisitor* v) {
  if (!s.empty() && s[0] == '-') return 1;
  std::size_t pos = 0;
  while (pos < s.size() && s[pos] == '[') {
    ++pos;
    const std::size_t id_start = pos;
    while (pos < s.size() && sd_name_char(s[pos])) ++pos;
    if (pos == id_start || pos >= s.size()) return 0;
    if (v) v->on_element(s.substr(id_start, pos - id_start));
    while (pos < s.size() && s[pos] == ' ') {
      ++pos;
      const std::size_t name_start = pos;
      while (pos < s.size() && sd_name_char(s[pos])) ++pos;
      if (pos == name_start || pos + 1 >= s.size() || s[pos] != '=' || s[pos + 1] != '"') return 0;
      const std::string_view name = s.substr(name_start, pos - name_start);
      pos += 2;
      const std::size_t value_start = pos;
      bool escaped = false;
      while (pos < s.size() && s[pos] != '"') {
        if (s[pos] == '\\' && pos + 1 < s.size()) {
          escaped = true;
          ++pos;
        }
        ++pos;
      }
      if (pos >= s.size()) return 0;
      if (v) v->on_param(name, s.substr(value_start, pos - value_start), escaped);
      ++pos;  // the closing quote
    }
    if (pos >= s.size() || s[pos] != ']') return 0;
    ++pos;
  }
  return pos;
}

std::size_t unescape_param(std::string_view value, char* out) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    // Only \" \\ \] are escapes; a backslash before anything else is itself.
    if (value[i] == '\\' && i + 1 < value.size() &&
        (value[i + 1] == '"' || value[i + 1] == '\\' || value[i + 1] == ']'))
      ++i;
    out[n++] = value[i];
  }
  return n;
}

std::string_view trim_trailer(std::string_view msg) {
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r' || msg.back() == '\0')) msg.remove_suffix(1);
  return msg;
}

SyslogError parse_priority(std::string_view s, std::size_t& pos, int& pri) {
  if (s.empty() || s[0] != '<') return SyslogError::kNoPriority;
  std::size_t p = 1;
  int v = 0;
  while (p < s.size() && p <= 4 && s[p] >= '0' && s[p] <= '9') v = v * 10 + (s[p++] - '0');
  if (p == 1 || p > 4 || p >= s.size() || s[p] != '>') return SyslogError::kBadPriority;
  if (v > 191) return SyslogError::kBadPriority;
  pri = v;
  pos = p + 1;
  return SyslogError::kNone;
}

SyslogError parse_rfc5424(std::string_view s, SyslogMessage& m) {
  m = SyslogMessage{};
  std::size_t pos = 0;
  if (SyslogError e = parse_priority(s, pos, m.priority); e != SyslogError::kNone) return e;
  // VERSION: NONZERO-DIGIT 0*2DIGIT; only 1 exists.
  std::size_t v = pos;
  while (pos < s.size() && pos - v < 3 && s[pos] >= '0' && s[pos] <= '9') ++pos;
  if (pos == v || s[v] == '0' || pos >= s.size() || s[pos] != ' ') return SyslogError::kBadVersion;
  m.version = 0;
  for (std::size_t i = v; i < pos; ++i) m.version = m.version * 10 + (s[i] - '0');
  ++pos;
  std::string_view ts;
  if (!field(s, pos, ts)) return SyslogError::kBadTimestamp;
  if (!ts.empty()) {
    if (!parse_rfc3339(ts, m.time.ns)) return SyslogError::kBadTimestamp;
    m.time.kind = SyslogTime::Kind::kInstant;
  }
  if (!field(s, pos, m.hostname) || !field(s, pos, m.app_name) || !field(s, pos, m.procid) || !field(s, pos, m.msgid))
    return SyslogError::kBadHeader;
  if (pos >= s.size()) return SyslogError::kBadStructuredData;
  const std::size_t sd_len = walk_structured_data(s.substr(pos), nullptr);
  if (sd_len == 0) return SyslogError::kBadStructuredData;
  if (s[pos] != '-') m.structured_data = s.substr(pos, sd_len);
  pos += sd_len;
  if (pos < s.size()) {
    if (s[pos] != ' ') return SyslogError::kBadStructuredData;
    ++pos;
    std::string_view msg = s.substr(pos);
    if (msg.size() >= 3 && std::memcmp(msg.data(), "\xEF\xBB\xBF", 3) == 0) msg.remove_prefix(3);
    m.msg = trim_trailer(msg);
  }
  return SyslogError::kNone;
}

SyslogError parse_syslog(std::string_view line, Format format, SyslogMessage& out) {
  switch (format) {
    case Format::kRfc5424: return parse_rfc5424(line, out);
    case Format::kRfc3164: return parse_rfc3164(line, out);
    case Format::kAuto: break;
  }
  std::size_t pos = 0;
  int pri = 0;
  if (SyslogError e = parse_priority(line, pos, pri); e != SyslogError::kNone) {
    out = SyslogMessage{};
    return e;
  }
  if (pos + 1 < line.size() && line[pos] >= '1' && line[pos] <= '9' && line[pos + 1] == ' ')
    return parse_rfc5424(line, out);
  return parse_rfc3164(line, out);
}

const char* error_reason(SyslogError e) {
  switch (e) {
    case SyslogError::kNone: return "none";
    case SyslogError::kNoPriority: return "no_priority";
    case SyslogError::kBadPriority: return "bad_priority";
    case SyslogError::kBadVersion: return "bad_version";
    case SyslogError::kBadTimestamp: return "bad_timestamp";
    case SyslogError::kBadHeader: return "bad_header";
    case SyslogError::kBadStructuredData: return "bad_structured_data";
  }
  return "unknown";
}

}  // namespace bifrost::inputs::syslog
