// RFC 3164 as senders write it, read leniently (it describes practice more
// than it prescribes it):
//   <PRI>TIMESTAMP SP HOSTNAME SP TAG[PID]: MSG
// TIMESTAMP is "Mmm dd hh:mm:ss" (day space-padded), also with fractions,
// with a year ("Mmm dd yyyy hh:mm:ss"), or an RFC 3339 time (rsyslog's
// forwarding format). Without a timestamp the rest is the message, as RFC
// 3164 (4.3.2) says a relay treats it; a TAG before ':' is still taken.
// Only a missing or bad <PRI> makes a line invalid.
#include "inputs/common/rfc3339.h"
#include "inputs/syslog/message.h"

namespace bifrost::inputs::syslog {

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

int month_of(std::string_view s) {
  static constexpr const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                            "jul", "aug", "sep", "oct", "nov", "dec"};
  if (s.size() < 3) return 0;
  char m[3];
  for (int i = 0; i < 3; ++i) m[i] = static_cast<char>(s[i] | 0x20);
  for (int i = 0; i < 12; ++i) {
    if (m[0] == kMonths[i][0] && m[1] == kMonths[i][1] && m[2] == kMonths[i][2]) return i + 1;
  }
  return 0;
}

// "hh:mm:ss[.frac]" at pos; advances past it.
bool clock_time(std::string_view s, std::size_t& pos, SyslogTime& t) {
  if (pos + 8 > s.size() || s[pos + 2] != ':' || s[pos + 5] != ':') return false;
  t.hour = two_digits(s.data() + pos);
  t.minute = two_digits(s.data() + pos + 3);
  t.second = two_digits(s.data() + pos + 6);
  if (t.hour < 0 || t.hour > 23 || t.minute < 0 || t.minute > 59 || t.second < 0 || t.second > 60) return false;
  if (t.second == 60) t.second = 59;
  pos += 8;
  if (pos < s.size() && s[pos] == '.' && pos + 1 < s.size() && digit(s[pos + 1])) {
    ++pos;
    int kept = 0;
    int nanos = 0;
    while (pos < s.size() && digit(s[pos])) {
      if (kept < 9) nanos = nanos * 10 + (s[pos] - '0'), ++kept;
      ++pos;
    }
    for (; kept < 9; ++kept) nanos *= 10;
    t.nanos = nanos;
  }
  return true;
}

// A timestamp at the start of `s`; its length (0: none).
std::size_t timestamp(std::string_view s, SyslogTime& t) {
  if (!s.empty() && digit(s[0])) {  // RFC 3339, up to the next space
    std::size_t end = s.find(' ');
    std::string_view tok = s.substr(0, end);
    if (!parse_rfc3339(tok, t.ns)) return 0;
    t.kind = SyslogTime::Kind::kInstant;
    return tok.size();
  }
  const int month = month_of(s);
  if (month == 0 || s.size() < 4 || s[3] != ' ') return 0;
  std::size_t pos = 4;
  if (pos < s.size() && s[pos] == ' ') ++pos;  // "Jan  5"
  int day = 0;
  const std::size_t day_start = pos;
  while (pos < s.size() && pos - day_start < 2 && digit(s[pos])) day = day * 10 + (s[pos++] - '0');
  if (pos == day_start || day < 1 || day > 31 || pos >= s.size() || s[pos] != ' ') return 0;
  ++pos;
  SyslogTime out;
  out.month = month;
  out.day = day;
  // "yyyy hh:mm:ss" (Cisco and others put the year before the time)
  if (pos + 5 <= s.size() && digit(s[pos]) && digit(s[pos + 1]) && digit(s[pos + 2]) && digit(s[pos + 3]) &&
      s[pos + 4] == ' ') {
    out.year = (s[pos] - '0') * 1000 + (s[pos + 1] - '0') * 100 + (s[pos + 2] - '0') * 10 + (s[pos + 3] - '0');
    if (out.year < 1678 || out.year > 2261) return 0;  // beyond nanoseconds in an int64: no time
    pos += 5;
  }
  if (!clock_time(s, pos, out)) return 0;
  if (pos < s.size() && s[pos] != ' ') return 0;
  out.kind = SyslogTime::Kind::kCivil;
  t = out;
  return pos;
}

// TAG[PID]: at the start of `s`. The tag runs up to '[', ':' or a space;
// without the ':' it is no tag. Returns the length through ": " (0: none).
std::size_t tag(std::string_view s, std::string_view& name, std::string_view& pid) {
  std::size_t pos = 0;
  while (pos < s.size() && pos < 128 && s[pos] != '[' && s[pos] != ':' && s[pos] != ' ') ++pos;
  if (pos == 0 || pos >= s.size()) return 0;
  std::string_view n = s.substr(0, pos), p;
  if (s[pos] == '[') {
    std::size_t close = s.find(']', pos);
    if (close == std::string_view::npos || close - pos > 32) return 0;
    p = s.substr(pos + 1, close - pos - 1);
    pos = close + 1;
  }
  if (pos >= s.size() || s[pos] != ':') return 0;
  ++pos;
  if (pos < s.size() && s[pos] == ' ') ++pos;
  name = n;
  pid = p;
  return pos;
}

}  // namespace

SyslogError parse_rfc3164(std::string_view s, SyslogMessage& m) {
  m = SyslogMessage{};
  std::size_t pos = 0;
  if (SyslogError e = parse_priority(s, pos, m.priority); e != SyslogError::kNone) return e;
  std::string_view rest = s.substr(pos);
  const std::size_t ts = timestamp(rest, m.time);
  if (ts > 0) {
    rest.remove_prefix(ts);
    while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    // HOSTNAME, unless the next word is already the TAG (a local message
    // without one: "sshd[42]: ..." or "kernel: ...").
    std::size_t sp = rest.find(' ');
    std::string_view word = rest.substr(0, sp);
    if (!word.empty() && word.back() != ':' && word.find('[') == std::string_view::npos) {
      m.hostname = word;
      rest.remove_prefix(sp == std::string_view::npos ? rest.size() : sp + 1);
    }
  }
  if (std::size_t t = tag(rest, m.app_name, m.procid); t > 0) rest.remove_prefix(t);
  m.msg = trim_trailer(rest);
  return SyslogError::kNone;
}

}  // namespace bifrost::inputs::syslog
