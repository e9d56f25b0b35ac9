// RFC 3339 times ("2026-11-21T06:00:00.123456Z", "...+02:00"), as syslog
// (RFC 5424) and JSON events carry them. Parsed without the C library or a
// time-zone database (the offset is in the text), without allocating.
#pragma once

#include <cstdint>
#include <string_view>

namespace bifrost::inputs {

// Parses `text` (all of it) into nanoseconds since the epoch, UTC. Up to 9
// fraction digits (more are read and ignored); 'T' or 't' between date and
// time; "Z", "z" or +hh:mm / -hh:mm. Seconds up to 60 (a leap second is
// taken as :59). False when it is not such a time, or one outside what
// nanoseconds in an int64 hold (1677 to 2262).
bool parse_rfc3339(std::string_view text, std::int64_t& ns);

// Parses the 2-digit number at p[0..1]; -1 when not digits.
inline int two_digits(const char* p) {
  if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') return -1;
  return (p[0] - '0') * 10 + (p[1] - '0');
}

}  // namespace bifrost::inputs
