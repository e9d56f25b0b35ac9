// A parsed syslog message as an event, in the Elastic Common Schema names:
//
//   message                          the body (MSG)
//   @timestamp                       the message's time; RFC 3164's year-less
//                                    time in `timezone`, in the year that puts
//                                    it closest to when it was received
//   log.syslog.priority              PRI
//   log.syslog.facility.code / name  PRI / 8, and its name (kern, user, ..., local7)
//   log.syslog.severity.code / name  PRI % 8, and its name (Emergency, ..., Debug)
//   log.syslog.version               1 (RFC 5424 only)
//   log.syslog.msgid                 MSGID (RFC 5424)
//   log.syslog.structured_data       {SD-ID: {PARAM: value}} (RFC 5424)
//   log.syslog.procid                PROCID when it is not a number
//   host.hostname                    HOSTNAME
//   process.name                     APP-NAME (RFC 5424) or the TAG (RFC 3164)
//   process.pid                      PROCID, or the [pid] after the TAG, when a number
//
// Nil values (-) and absent parts make no field.
#pragma once

#include <absl/time/time.h>

#include <cstdint>

#include "core/batch.h"
#include "inputs/common/net_metrics.h"
#include "inputs/syslog/message.h"

namespace bifrost::inputs::syslog {

const char* facility_name(int code);  // 0..23
const char* severity_name(int code);  // 0..7

struct TimeZone {
  absl::TimeZone zone;
  bool utc = true;
};

// The instant of a civil time in `tz`; a year-less one takes the year
// (of the three around `receive_ns`) that puts it closest to `receive_ns`.
std::int64_t resolve_time(const SyslogTime& t, const TimeZone& tz, std::int64_t receive_ns);

// Sets message, time and fields of `e` from `m` (fields already on `e`, a
// cut tag, are kept).
void set_syslog_fields(core::Batch& b, core::Event& e, const SyslogMessage& m, const TimeZone& tz);

// The syslog input's decorate(): each event of a batch framed by the input
// thread parsed (or tagged syslog_invalid and counted), with its peer's
// source fields (inputs/common/peers.h).
void decorate_syslog(core::Batch& batch, Format format, const TimeZone& tz, NetStats& stats);

}  // namespace bifrost::inputs::syslog
