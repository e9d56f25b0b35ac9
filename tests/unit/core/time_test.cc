#include <doctest.h>

#include "core/time.h"

using namespace bifrost::core;

namespace {
std::string fmt(std::int64_t ns) {
  char buf[kRfc3339NsLen];
  format_rfc3339_ns(ns, buf);
  return std::string(buf, sizeof buf);
}
}  // namespace

TEST_CASE("RFC 3339 formatting covers the epoch, leap days and times before 1970") {
  CHECK(fmt(0) == "1970-01-01T00:00:00.000000000Z");
  CHECK(fmt(951'782'400'000'000'001) == "2000-02-29T00:00:00.000000001Z");
  CHECK(fmt(-1) == "1969-12-31T23:59:59.999999999Z");
}

TEST_CASE("the RFC 3339 cache gives the same text as a fresh format") {
  Rfc3339Cache cache;
  for (std::int64_t ns :
       {0LL, 5LL, 999'999'999LL, 1'000'000'000LL, 1'000'000'007LL, -3LL, 1'700'000'000'000'000'000LL}) {
    CHECK(std::string(cache.format(ns), kRfc3339NsLen) == fmt(ns));
  }
}

TEST_CASE("civil time knows weekdays and days of the year") {
  CivilTime t = civil_from_ns(1'704'067'200LL * 1'000'000'000);  // 2024-01-01, a Monday
  CHECK(t.year == 2024);
  CHECK(t.wday == 1);
  CHECK(t.yday == 0);
  CHECK(days_from_civil(2024, 3, 1) - days_from_civil(2024, 2, 1) == 29);
}
