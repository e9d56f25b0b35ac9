#include <doctest.h>

#include <string>

#include "core/json.h"
#include "inputs/common/net_metrics.h"
#include "inputs/common/peers.h"
#include "inputs/syslog/fields.h"
#include "inputs/syslog/message.h"

using namespace bifrost;
using namespace bifrost::inputs::syslog;

namespace {

std::int64_t utc(int y, int mo, int d, int h, int mi, int s) {
  return (core::days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60 +
          s) *
         1'000'000'000;
}

// The event a line becomes, as JSON (received at `receive_ns`).
std::string event_json(std::string_view line, Format f = Format::kAuto, const TimeZone& tz = {},
                       std::int64_t receive_ns = utc(2024, 6, 1, 12, 0, 0)) {
  core::BatchPool pool(1);
  core::Batch* b = pool.acquire();
  inputs::NetStats stats;
  std::string copy(line);
  b->chunk.resize(copy.size());
  std::memcpy(b->chunk.data(), copy.data(), copy.size());
  core::Event& e = b->events.emplace_back();
  e.message = {b->chunk.data(), copy.size()};
  e.timestamp_ns = receive_ns;
  e.offset = inputs::add_peer(*b, inputs::PeerAddr{4, 514, {10, 0, 0, 1}});
  decorate_syslog(*b, f, tz, stats);
  std::string out;
  core::Rfc3339Cache cache;
  core::append_event_json(out, b->events[0], cache);
  b->release();
  return out;
}

}  // namespace

TEST_CASE("syslog: RFC 5424's own examples become ECS fields") {
  CHECK(event_json("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' failed "
                   "for lonvick on /dev/pts/8") ==
        R"({"@timestamp":"2003-10-11T22:14:15.003000000Z","message":"'su root' failed for lonvick on /dev/pts/8",)"
        R"("log":{"syslog":{"priority":34,"facility":{"code":4,"name":"auth"},"severity":{"code":2,"name":"Critical"},)"
        R"("version":1,"msgid":"ID47"}},"host":{"hostname":"mymachine.example.com"},"process":{"name":"su"},)"
        R"("source":{"ip":"10.0.0.1","port":514}})");
  CHECK(
      event_json(
          "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.") ==
      R"({"@timestamp":"2003-08-24T12:14:15.000003000Z","message":"%% It's time to make the do-nuts.",)"
      R"("log":{"syslog":{"priority":165,"facility":{"code":20,"name":"local4"},"severity":{"code":5,"name":"Notice"},)"
      R"("version":1}},"host":{"hostname":"192.0.2.1"},"process":{"name":"myproc","pid":8710},)"
      R"("source":{"ip":"10.0.0.1","port":514}})");
  CHECK(
      event_json(
          R"(<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"])") ==
      R"({"@timestamp":"2003-10-11T22:14:15.003000000Z","message":"","log":{"syslog":{"priority":165,)"
      R"("facility":{"code":20,"name":"local4"},"severity":{"code":5,"name":"Notice"},"version":1,"msgid":"ID47",)"
      R"("structured_data":{"exampleSDID@32473":{"iut":"3","eventSource":"Application","eventID":"1011"},)"
      R"("examplePriority@32473":{"class":"high"}}}},"host":{"hostname":"mymachine.example.com"},)"
      R"("process":{"name":"evntslog"},"source":{"ip":"10.0.0.1","port":514}})");
}

TEST_CASE("syslog: structured data values lose their escapes; a PROCID that is no number stays a string") {
  const std::string j = event_json(R"(<14>1 - - app worker-7 - [a k="x\"y\\z\]w" b="c\d"] body)");
  CHECK(j.find(R"("structured_data":{"a":{"k":"x\"y\\z]w","b":"c\\d"}})") != std::string::npos);
  CHECK(j.find(R"("procid":"worker-7")") != std::string::npos);
  CHECK(j.find("\"pid\"") == std::string::npos);
  CHECK(j.find(R"("message":"body")") != std::string::npos);
}

TEST_CASE("syslog: RFC 5424 nil values make no field; no timestamp keeps the receive time") {
  const std::string j = event_json("<13>1 - - - - - -", Format::kAuto, {}, utc(2024, 6, 1, 12, 0, 0));
  CHECK(j == R"({"@timestamp":"2024-06-01T12:00:00.000000000Z","message":"","log":{"syslog":{"priority":13,)"
             R"("facility":{"code":1,"name":"user"},"severity":{"code":5,"name":"Notice"},"version":1}},)"
             R"("source":{"ip":"10.0.0.1","port":514}})");
}

TEST_CASE("syslog: what is not syslog is kept whole, tagged syslog_invalid, and counted by reason") {
  struct Case {
    const char* line;
    SyslogError err;
  };
  const Case cases[] = {
      {"plain text", SyslogError::kNoPriority},
      {"<192>1 - - - - - -", SyslogError::kBadPriority},
      {"<1x>hello", SyslogError::kBadPriority},
      {"<>hello", SyslogError::kBadPriority},
      {"<13>1 yesterday host app - - - msg", SyslogError::kBadTimestamp},
      {"<13>1 2003-13-11T22:14:15Z host app - - - msg", SyslogError::kBadTimestamp},
      {"<13>1 2003-10-11T22:14:15Z host app", SyslogError::kBadHeader},
      {"<13>1 2003-10-11T22:14:15Z host app - - [id k=v] msg", SyslogError::kBadStructuredData},
      {"<13>1 2003-10-11T22:14:15Z host app - - [id k=\"v\"", SyslogError::kBadStructuredData},
      {"<13>1 2003-10-11T22:14:15Z host app - - [id]x", SyslogError::kBadStructuredData},
  };
  for (const auto& c : cases) {
    CAPTURE(c.line);
    SyslogMessage m;
    CHECK(parse_syslog(c.line, Format::kRfc5424, m) == c.err);
  }
  core::BatchPool pool(1);
  core::Batch* b = pool.acquire();
  inputs::NetStats stats;
  core::Event& e = b->events.emplace_back();
  e.message = "no pri here";
  decorate_syslog(*b, Format::kAuto, {}, stats);
  std::string out;
  core::Rfc3339Cache cache;
  core::append_event_json(out, e, cache);
  CHECK(out.find(R"("message":"no pri here","tags":["syslog_invalid"])") != std::string::npos);
  CHECK(stats.parse_errors.get("no_priority") == 1);
  b->release();
}

TEST_CASE("syslog: RFC 3164 as senders write it") {
  SyslogMessage m;
  REQUIRE(parse_rfc3164("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", m) ==
          SyslogError::kNone);
  CHECK(m.priority == 34);
  CHECK(m.hostname == "mymachine");
  CHECK(m.app_name == "su");
  CHECK(m.msg == "'su root' failed for lonvick on /dev/pts/8");
  CHECK(m.time.kind == SyslogTime::Kind::kCivil);
  CHECK((m.time.month == 10 && m.time.day == 11 && m.time.hour == 22 && m.time.second == 15 && m.time.year == 0));

  REQUIRE(parse_rfc3164("<13>Feb  5 17:32:18 10.0.0.99 sshd[1234]: Accepted publickey", m) == SyslogError::kNone);
  CHECK((m.hostname == "10.0.0.99" && m.app_name == "sshd" && m.procid == "1234" && m.msg == "Accepted publickey"));
  CHECK(m.time.day == 5);

  // No hostname: the word after the time is already the tag.
  REQUIRE(parse_rfc3164("<6>Feb 15 17:32:18 kernel: usb 1-1: new device", m) == SyslogError::kNone);
  CHECK((m.hostname.empty() && m.app_name == "kernel" && m.msg == "usb 1-1: new device"));
  REQUIRE(parse_rfc3164("<6>Feb 15 17:32:18 cron[99]: job", m) == SyslogError::kNone);
  CHECK((m.hostname.empty() && m.app_name == "cron" && m.procid == "99"));

  // No timestamp: the rest is the message (a tag before ':' still counts).
  REQUIRE(parse_rfc3164("<13>hello world", m) == SyslogError::kNone);
  CHECK((m.time.kind == SyslogTime::Kind::kNone && m.hostname.empty() && m.msg == "hello world"));
  REQUIRE(parse_rfc3164("<13>app: hello", m) == SyslogError::kNone);
  CHECK((m.app_name == "app" && m.msg == "hello"));

  // An RFC 3339 time (rsyslog's forwarding format), a year, fractions.
  REQUIRE(parse_rfc3164("<13>2024-01-02T03:04:05.123+01:00 host app[7]: m", m) == SyslogError::kNone);
  CHECK((m.time.kind == SyslogTime::Kind::kInstant && m.time.ns == utc(2024, 1, 2, 2, 4, 5) + 123'000'000));
  CHECK((m.hostname == "host" && m.app_name == "app" && m.procid == "7"));
  REQUIRE(parse_rfc3164("<13>Feb  5 2023 17:32:18.250 host app: m", m) == SyslogError::kNone);
  CHECK((m.time.year == 2023 && m.time.nanos == 250'000'000 && m.hostname == "host"));
  // A message without a tag: the host, then the words.
  REQUIRE(parse_rfc3164("<13>Feb  5 17:32:18 host just words", m) == SyslogError::kNone);
  CHECK((m.hostname == "host" && m.app_name.empty() && m.msg == "just words"));
}

TEST_CASE("syslog: format auto tells RFC 5424 from RFC 3164 by the version after <PRI>") {
  SyslogMessage m;
  REQUIRE(parse_syslog("<13>1 2024-01-01T00:00:00Z h a p i - m", Format::kAuto, m) == SyslogError::kNone);
  CHECK(m.version == 1);
  REQUIRE(parse_syslog("<13>Jan  1 00:00:00 h a: m", Format::kAuto, m) == SyslogError::kNone);
  CHECK(m.version == 0);
  // format: rfc5424 refuses RFC 3164.
  CHECK(parse_syslog("<13>Jan  1 00:00:00 h a: m", Format::kRfc5424, m) == SyslogError::kBadVersion);
}

TEST_CASE("syslog: an RFC 3164 time without a year takes the year closest to its receipt, in `timezone`") {
  SyslogTime t;
  t.kind = SyslogTime::Kind::kCivil;
  t.month = 12, t.day = 31, t.hour = 23, t.minute = 59, t.second = 59;
  TimeZone tz;
  // Sent on Dec 31, received just after midnight: last year's.
  CHECK(resolve_time(t, tz, utc(2025, 1, 1, 0, 0, 10)) == utc(2024, 12, 31, 23, 59, 59));
  t.month = 1, t.day = 1, t.hour = 0, t.minute = 0, t.second = 5;
  // A sender a little ahead on Dec 31: next year's.
  CHECK(resolve_time(t, tz, utc(2024, 12, 31, 23, 59, 59)) == utc(2025, 1, 1, 0, 0, 5));
  t.month = 6, t.day = 1, t.hour = 12;
  CHECK(resolve_time(t, tz, utc(2024, 6, 1, 12, 0, 0)) == utc(2024, 6, 1, 12, 0, 5));
  // Europe/Berlin is UTC+2 in June.
  TimeZone berlin;
  REQUIRE(absl::LoadTimeZone("Europe/Berlin", &berlin.zone));
  berlin.utc = false;
  CHECK(resolve_time(t, berlin, utc(2024, 6, 1, 12, 0, 0)) == utc(2024, 6, 1, 10, 0, 5));
  // A year given is taken as it is.
  t.year = 2019;
  CHECK(resolve_time(t, tz, utc(2024, 6, 1, 12, 0, 0)) == utc(2019, 6, 1, 12, 0, 5));
}

TEST_CASE("syslog: facility and severity names") {
  CHECK(std::string(facility_name(0)) == "kern");
  CHECK(std::string(facility_name(10)) == "authpriv");
  CHECK(std::string(facility_name(23)) == "local7");
  CHECK(std::string(severity_name(0)) == "Emergency");
  CHECK(std::string(severity_name(7)) == "Debug");
}
