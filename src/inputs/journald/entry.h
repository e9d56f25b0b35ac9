// One journal entry as an event. Its fields come as (NAME, value) pairs;
// the well-known ones take their Elastic Common Schema names, the rest go
// under `journald.` by their own names:
//
//   MESSAGE            message
//   _SYSTEMD_UNIT      systemd.unit
//   _PID               process.pid (a number)
//   _COMM              process.name
//   PRIORITY           log.syslog.priority (a number)
//   SYSLOG_FACILITY    log.syslog.facility.code (a number)
//   SYSLOG_IDENTIFIER  log.syslog.appname
//   _HOSTNAME          host.hostname
//   anything else      journald.NAME (such as journald._BOOT_ID, journald.CODE_FILE)
//
// The event time is _SOURCE_REALTIME_TIMESTAMP when the entry has it (when
// the process logged), else the journal's receive time.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/batch.h"

namespace bifrost::inputs::journald {

// Builds `e` from the entry's fields, called once per field; strings must
// already be in the batch (chunk or arena).
class EntryBuilder {
 public:
  EntryBuilder(core::Batch& b, core::Event& e);
  void field(std::string_view name, std::string_view value);
  // Sets the time (from `realtime_us` unless a source time came) and the fields.
  void finish(std::int64_t realtime_us);

 private:
  core::Value& object(core::Value& parent, std::string_view key, std::uint32_t n);
  core::Batch& b_;
  core::Event& e_;
  core::Value journald_;
  std::int64_t source_us_ = -1;
};

}  // namespace bifrost::inputs::journald
