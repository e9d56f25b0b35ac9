// Civil-time arithmetic in UTC without the C library's locale or time-zone
// state, so it is fast and thread-safe on the hot path.
#pragma once

#include <cstdint>
#include <string>

namespace bifrost::core {

struct CivilTime {
  int year;
  int month;  // 1..12
  int day;    // 1..31
  int hour, minute, second;
  int nanos;
  int yday;  // 0..365
  int wday;  // 0 = Sunday
};

std::int64_t now_ns();
std::int64_t days_from_civil(int y, unsigned m, unsigned d);
CivilTime civil_from_ns(std::int64_t ns);

// Writes "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" (30 bytes) into `out`.
void format_rfc3339_ns(std::int64_t ns, char* out);
inline constexpr std::size_t kRfc3339NsLen = 30;

// Formats RFC 3339 timestamps, reusing the date and time part while
// consecutive calls fall in the same second (the common case in a batch).
class Rfc3339Cache {
 public:
  const char* format(std::int64_t ns);

 private:
  std::int64_t second_ = INT64_MIN;
  std::int64_t last_ns_ = INT64_MIN;
  char buf_[kRfc3339NsLen + 1] = {};
};

}  // namespace bifrost::core
