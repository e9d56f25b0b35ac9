#include <doctest.h>

#include "core/time.h"
#include "filters/parse_timestamp/parse_timestamp_filter.h"

using namespace bifrost;
namespace pt = filters::parse_timestamp;

namespace {

std::string rfc(std::int64_t ns) {
  char buf[core::kRfc3339NsLen];
  core::format_rfc3339_ns(ns, buf);
  return std::string(buf, sizeof buf);
}

// Parses `text` with `format` in `zone`, "now" being `now` (RFC 3339).
std::string at(const char* format, const char* text, const char* zone = "UTC",
               const char* now = "2026-11-21T12:00:00Z") {
  auto f = pt::compile_format(format);
  REQUIRE_MESSAGE(f, (f ? std::string() : f.error().message));
  absl::TimeZone tz;
  REQUIRE(absl::LoadTimeZone(zone, &tz));
  auto now_fmt = pt::compile_format("rfc3339");
  auto now_ns = pt::parse_time(*now_fmt, now, absl::UTCTimeZone(), 0);
  REQUIRE(now_ns);
  auto ns = pt::parse_time(*f, text, tz, *now_ns);
  return ns ? rfc(*ns) : std::string("(no parse)");
}

}  // namespace

TEST_CASE("named formats: rfc3339 and unix in four scales") {
  CHECK(at("rfc3339", "2024-01-01T01:00:00.123456789+01:00") == "2024-01-01T00:00:00.123456789Z");
  CHECK(at("rfc3339", "2024-01-01T00:00:00Z") == "2024-01-01T00:00:00.000000000Z");
  CHECK(at("unix", "1700000000") == "2023-11-14T22:13:20.000000000Z");
  CHECK(at("unix", "1700000000.25") == "2023-11-14T22:13:20.250000000Z");
  CHECK(at("unix_ms", "1700000000123") == "2023-11-14T22:13:20.123000000Z");
  CHECK(at("unix_us", "1700000000123456") == "2023-11-14T22:13:20.123456000Z");
  CHECK(at("unix_ns", "1700000000123456789") == "2023-11-14T22:13:20.123456789Z");
  CHECK(at("unix", "soon") == "(no parse)");
}

TEST_CASE("strftime formats with %f after a dot or a comma, and explicit offsets") {
  CHECK(at("%Y-%m-%d %H:%M:%S.%f", "2024-05-06 07:08:09.5") == "2024-05-06T07:08:09.500000000Z");
  CHECK(at("%Y-%m-%d %H:%M:%S,%f", "2024-05-06 07:08:09,123456789") == "2024-05-06T07:08:09.123456789Z");
  CHECK(at("%d/%b/%Y:%H:%M:%S %z", "01/Jan/2024:00:00:01 +0200") == "2023-12-31T22:00:01.000000000Z");
  CHECK(at("%a %b %d %H:%M:%S %Y", "Sun Dec 04 04:47:44 2005") == "2005-12-04T04:47:44.000000000Z");
  CHECK(at("%y%m%d %H%M%S", "081109 203615") == "2008-11-09T20:36:15.000000000Z");
  CHECK(at("%Y-%m-%d", "2024-13-01") == "(no parse)");
}

TEST_CASE("Europe/Berlin across both DST changes of 2024") {
  // 31 March: 02:00 CET -> 03:00 CEST. 27 October: 03:00 CEST -> 02:00 CET.
  CHECK(at("%Y-%m-%d %H:%M:%S", "2024-03-31 01:59:59", "Europe/Berlin") == "2024-03-31T00:59:59.000000000Z");
  CHECK(at("%Y-%m-%d %H:%M:%S", "2024-03-31 03:00:00", "Europe/Berlin") == "2024-03-31T01:00:00.000000000Z");
  // 02:30 does not exist that night: the offset before the change (+01:00).
  CHECK(at("%Y-%m-%d %H:%M:%S", "2024-03-31 02:30:00", "Europe/Berlin") == "2024-03-31T01:30:00.000000000Z");
  // 02:30 happens twice in October: the offset before the change (+02:00).
  CHECK(at("%Y-%m-%d %H:%M:%S", "2024-10-27 02:30:00", "Europe/Berlin") == "2024-10-27T00:30:00.000000000Z");
  CHECK(at("%Y-%m-%d %H:%M:%S", "2024-10-27 03:30:00", "Europe/Berlin") == "2024-10-27T02:30:00.000000000Z");
  CHECK(at("%Y-%m-%d %H:%M:%S", "2024-07-01 12:00:00", "Europe/Berlin") == "2024-07-01T10:00:00.000000000Z");
}

TEST_CASE("America/New_York across both DST changes of 2024") {
  // 10 March: 02:00 EST -> 03:00 EDT. 3 November: 02:00 EDT -> 01:00 EST.
  CHECK(at("%Y-%m-%d %H:%M:%S", "2024-03-10 01:59:59", "America/New_York") == "2024-03-10T06:59:59.000000000Z");
  CHECK(at("%Y-%m-%d %H:%M:%S", "2024-03-10 03:00:00", "America/New_York") == "2024-03-10T07:00:00.000000000Z");
  CHECK(at("%Y-%m-%d %H:%M:%S", "2024-03-10 02:30:00", "America/New_York") == "2024-03-10T07:30:00.000000000Z");
  CHECK(at("%Y-%m-%d %H:%M:%S", "2024-11-03 01:30:00", "America/New_York") == "2024-11-03T05:30:00.000000000Z");
  CHECK(at("%Y-%m-%d %H:%M:%S", "2024-11-03 02:30:00", "America/New_York") == "2024-11-03T07:30:00.000000000Z");
  CHECK(at("%Y-%m-%d %H:%M:%S %z", "2024-11-03 01:30:00 -0500", "America/New_York") ==
        "2024-11-03T06:30:00.000000000Z");
}

TEST_CASE("a year-less syslog stamp gets the year that is not in the future") {
  CHECK(at("%b %d %H:%M:%S", "Dec 10 06:55:46", "UTC", "2026-11-21T12:00:00Z") == "2025-12-10T06:55:46.000000000Z");
  CHECK(at("%b %d %H:%M:%S", "Nov 20 06:55:46", "UTC", "2026-11-21T12:00:00Z") == "2026-11-20T06:55:46.000000000Z");
  CHECK(at("%b %d %H:%M:%S", "Dec 31 23:59:59", "UTC", "2027-01-01T00:00:10Z") == "2026-12-31T23:59:59.000000000Z");
  CHECK(at("%b %d %H:%M:%S", "Jan  1 00:00:05", "UTC", "2026-12-31T23:59:59Z") == "2026-01-01T00:00:05.000000000Z");
  // A clock a little behind the log's writer: up to a day ahead stays this year.
  CHECK(at("%b %d %H:%M:%S", "Nov 21 20:00:00", "UTC", "2026-11-21T12:00:00Z") == "2026-11-21T20:00:00.000000000Z");
}

TEST_CASE("formats that cannot be compiled are errors") {
  auto unknown = pt::compile_format("%Y-%Q");
  CHECK_FALSE(unknown);
  CHECK(unknown.error().message.find("%Q") != std::string::npos);
  auto no_directive = pt::compile_format("yyyy-mm-dd");
  CHECK_FALSE(no_directive);
  CHECK(no_directive.error().message.find("no % directive") != std::string::npos);
  CHECK_FALSE(pt::compile_format("%Y %"));
}
