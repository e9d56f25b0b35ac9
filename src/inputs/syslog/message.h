// A syslog message split into its parts (RFC 5424 and RFC 3164), without
// copying: every part is a view into the line. Pure functions, fuzzed
// (tests/fuzz/fuzz_syslog.cc).
#pragma once

#include <cstdint>
#include <string_view>

namespace bifrost::inputs::syslog {

enum class Format : std::uint8_t { kAuto, kRfc3164, kRfc5424 };

// The time a message carries. RFC 5424 (and an RFC 3339 time in an RFC 3164
// header) gives an instant; RFC 3164's "Mmm dd hh:mm:ss" gives a local
// civil time without a year, resolved later against the receive time.
struct SyslogTime {
  enum class Kind : std::uint8_t { kNone, kInstant, kCivil };
  Kind kind = Kind::kNone;
  std::int64_t ns = 0;  // kInstant: since the epoch, UTC
  int year = 0;         // kCivil: 0 when the message had none
  int month = 0, day = 0, hour = 0, minute = 0, second = 0, nanos = 0;
};

struct SyslogMessage {
  int priority = -1;  // 0..191
  int version = 0;    // 1 for RFC 5424; 0 for RFC 3164
  SyslogTime time;
  std::string_view hostname;
  std::string_view app_name;  // RFC 3164: the TAG
  std::string_view procid;    // RFC 3164: the pid in TAG[pid]
  std::string_view msgid;
  std::string_view structured_data;  // as written; empty when nil
  std::string_view msg;              // the body (RFC 5424: without its UTF-8 BOM); no trailing LF, CR or NUL
};

enum class SyslogError : std::uint8_t {
  kNone,
  kNoPriority,         // no <PRI> at the start
  kBadPriority,        // <PRI> not a number from 0 to 191
  kBadVersion,         // RFC 5424: no version 1
  kBadTimestamp,       // RFC 5424: not an RFC 3339 time (nor -)
  kBadHeader,          // RFC 5424: a header field missing or empty
  kBadStructuredData,  // RFC 5424: structured data that is not [ID name="value" ...]
};

// <PRI> at the start of `s`: its value in `pri`, `pos` just past it.
SyslogError parse_priority(std::string_view s, std::size_t& pos, int& pri);

// `msg` without the line ends and NULs a sender's template may leave at its
// end (rsyslog's forwarding templates end in a newline, also inside an
// octet-counted frame).
std::string_view trim_trailer(std::string_view msg);

// The reason as counted in bifrost_input_parse_errors_total (a static string).
const char* error_reason(SyslogError e);

SyslogError parse_rfc5424(std::string_view line, SyslogMessage& out);
SyslogError parse_rfc3164(std::string_view line, SyslogMessage& out);
// kAuto: RFC 5424 when a version digit and a space follow <PRI>, else RFC 3164.
SyslogError parse_syslog(std::string_view line, Format format, SyslogMessage& out);

// Walks RFC 5424 structured data. on_element(id) starts an element;
// on_param(name, value, escaped) gives a parameter whose value is still
// escaped (\" \\ \]) when `escaped`. Returns the length of the structured
// data at the start of `s` (so "-" is 1), or 0 when it is not valid.
class SdVisitor {
 public:
  virtual void on_element(std::string_view id) = 0;
  virtual void on_param(std::string_view name, std::string_view value, bool escaped) = 0;

 protected:
  ~SdVisitor() = default;
};
std::size_t walk_structured_data(std::string_view s, SdVisitor* visitor);

// Writes `value` without its escapes into `out` (value.size() bytes of
// room); returns the length written.
std::size_t unescape_param(std::string_view value, char* out);

}  // namespace bifrost::inputs::syslog
