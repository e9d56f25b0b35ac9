#include "core/time.h"

#include <chrono>

namespace bifrost::core {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Howard Hinnant's days_from_civil / civil_from_days.
std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

CivilTime civil_from_ns(std::int64_t ns) {
  std::int64_t secs = ns / 1'000'000'000;
  std::int64_t rem = ns % 1'000'000'000;
  if (rem < 0) {
    rem += 1'000'000'000;
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  CivilTime t{};
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  t.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  t.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  t.year = static_cast<int>(yoe + era * 400 + (t.month <= 2));
  t.hour = static_cast<int>(sod / 3600);
  t.minute = static_cast<int>(sod / 60 % 60);
  t.second = static_cast<int>(sod % 60);
  t.nanos = static_cast<int>(rem);
  t.yday = static_cast<int>(days - days_from_civil(t.year, 1, 1));
  t.wday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  return t;
}

namespace {
void put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}
void put_digits(char* p, int v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}
}  // namespace

void format_rfc3339_ns(std::int64_t ns, char* out) {
  CivilTime t = civil_from_ns(ns);
  int y = t.year < 0 ? 0 : (t.year > 9999 ? 9999 : t.year);
  put_digits(out, y, 4);
  out[4] = '-';
  put2(out + 5, t.month);
  out[7] = '-';
  put2(out + 8, t.day);
  out[10] = 'T';
  put2(out + 11, t.hour);
  out[13] = ':';
  put2(out + 14, t.minute);
  out[16] = ':';
  put2(out + 17, t.second);
  out[19] = '.';
  put_digits(out + 20, t.nanos, 9);
  out[29] = 'Z';
}

const char* Rfc3339Cache::format(std::int64_t ns) {
  if (ns == last_ns_) return buf_;  // events of one batch often share their time
  last_ns_ = ns;
  std::int64_t sec = ns >= 0 ? ns / 1'000'000'000 : (ns - 999'999'999) / 1'000'000'000;
  if (sec != second_) {
    format_rfc3339_ns(ns, buf_);
    second_ = sec;
  } else {
    put_digits(buf_ + 20, static_cast<int>(ns - sec * 1'000'000'000), 9);
  }
  return buf_;
}

}  // namespace bifrost::core
