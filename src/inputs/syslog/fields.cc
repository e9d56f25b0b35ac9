#include "inputs/syslog/fields.h"

#include <charconv>
#include <vector>

#include "core/time.h"
#include "inputs/common/peers.h"

namespace bifrost::inputs::syslog {

const char* facility_name(int code) {
  static constexpr const char* kNames[] = {"kern",   "user",     "mail",    "daemon",       "auth",     "syslog",
                                           "lpr",    "news",     "uucp",    "cron",         "authpriv", "ftp",
                                           "ntp",    "security", "console", "solaris-cron", "local0",   "local1",
                                           "local2", "local3",   "local4",  "local5",       "local6",   "local7"};
  return code >= 0 && code < 24 ? kNames[code] : "unknown";
}

const char* severity_name(int code) {
  static constexpr const char* kNames[] = {"Emergency", "Alert",  "Critical",      "Error",
                                           "Warning",   "Notice", "Informational", "Debug"};
  return code >= 0 && code < 8 ? kNames[code] : "unknown";
}

namespace {

std::int64_t civil_to_ns(int year, const SyslogTime& t, const TimeZone& tz) {
  if (tz.utc) {
    // Out-of-range days (Feb 30) roll over as a calendar would.
    const std::int64_t days = core::days_from_civil(year, static_cast<unsigned>(t.month), 1) + (t.day - 1);
    return (days * 86400 + t.hour * 3600 + t.minute * 60 + t.second) * 1'000'000'000 + t.nanos;
  }
  const absl::Time at = absl::FromCivil(absl::CivilSecond(year, t.month, t.day, t.hour, t.minute, t.second), tz.zone);
  return absl::ToUnixNanos(at) + t.nanos;
}

int year_in(std::int64_t ns, const TimeZone& tz) {
  if (tz.utc) return core::civil_from_ns(ns).year;
  return static_cast<int>(absl::ToCivilYear(absl::FromUnixNanos(ns), tz.zone).year());
}

core::Value object(core::Batch& b, std::uint32_t n) { return core::Value::object(b.arena, n); }

// A member of `parent` that is an object (made when missing).
core::Value& child(core::Batch& b, core::Value& parent, std::string_view key, std::uint32_t n) {
  if (core::Value* v = parent.find(key); v && v->is_object()) {
    v->own(b.arena);
    return *v;
  }
  return parent.set(key, object(b, n), b.arena);
}

bool number(std::string_view s, std::int64_t& out) {
  if (s.empty() || s.size() > 18) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

class SdBuilder final : public SdVisitor {
 public:
  SdBuilder(core::Batch& b, core::Value& out) : b_(b), out_(out) {}
  void on_element(std::string_view id) override { element_ = &child(b_, out_, id, 4); }
  void on_param(std::string_view name, std::string_view value, bool escaped) override {
    if (escaped) {
      char* p = static_cast<char*>(b_.arena.allocate(value.size(), 1));
      value = {p, unescape_param(value, p)};
    }
    element_->set(name, core::Value::string(value), b_.arena);
  }

 private:
  core::Batch& b_;
  core::Value& out_;
  core::Value* element_ = nullptr;
};

}  // namespace

std::int64_t resolve_time(const SyslogTime& t, const TimeZone& tz, std::int64_t receive_ns) {
  if (t.kind == SyslogTime::Kind::kInstant) return t.ns;
  if (t.kind != SyslogTime::Kind::kCivil) return receive_ns;
  if (t.year != 0) return civil_to_ns(t.year, t, tz);
  // Year-less: Dec 31 23:59 received on Jan 1 is last year's; a clock a
  // little ahead of ours on Dec 31 may send Jan 1 of next year.
  const int y = year_in(receive_ns, tz);
  std::int64_t best = civil_to_ns(y, t, tz);
  for (int cand : {y - 1, y + 1}) {
    const std::int64_t ns = civil_to_ns(cand, t, tz);
    const auto dist = [&](std::int64_t v) { return v > receive_ns ? v - receive_ns : receive_ns - v; };
    if (dist(ns) < dist(best)) best = ns;
  }
  return best;
}

void set_syslog_fields(core::Batch& b, core::Event& e, const SyslogMessage& m, const TimeZone& tz) {
  e.message = m.msg;
  e.timestamp_ns = resolve_time(m.time, tz, e.timestamp_ns);
  if (!e.fields.is_object()) e.fields = object(b, 6);
  core::Value sys = object(b, 8);
  sys.append("priority", core::Value::integer(m.priority), b.arena);
  core::Value facility = object(b, 2);
  facility.append("code", core::Value::integer(m.priority / 8), b.arena);
  facility.append("name", core::Value::string(facility_name(m.priority / 8)), b.arena);
  sys.append("facility", facility, b.arena);
  core::Value severity = object(b, 2);
  severity.append("code", core::Value::integer(m.priority % 8), b.arena);
  severity.append("name", core::Value::string(severity_name(m.priority % 8)), b.arena);
  sys.append("severity", severity, b.arena);
  if (m.version > 0) sys.append("version", core::Value::integer(m.version), b.arena);
  if (!m.msgid.empty()) sys.append("msgid", core::Value::string(m.msgid), b.arena);
  std::int64_t pid = 0;
  const bool numeric_pid = number(m.procid, pid);
  if (!m.procid.empty() && !numeric_pid) sys.append("procid", core::Value::string(m.procid), b.arena);
  if (!m.structured_data.empty()) {
    core::Value sd = object(b, 2);
    SdBuilder builder(b, sd);
    walk_structured_data(m.structured_data, &builder);
    sys.append("structured_data", sd, b.arena);
  }
  core::Value& log = child(b, e.fields, "log", 1);
  log.set("syslog", sys, b.arena);
  if (!m.hostname.empty()) child(b, e.fields, "host", 1).set("hostname", core::Value::string(m.hostname), b.arena);
  if (!m.app_name.empty() || numeric_pid) {
    core::Value& process = child(b, e.fields, "process", 2);
    if (!m.app_name.empty()) process.set("name", core::Value::string(m.app_name), b.arena);
    if (numeric_pid) process.set("pid", core::Value::integer(pid), b.arena);
  }
}

void decorate_syslog(core::Batch& batch, Format format, const TimeZone& tz, NetStats& stats) {
  thread_local std::vector<PeerFields> peers;
  take_peers(batch, peers);
  std::size_t hint = 0;
  SyslogMessage m;
  for (core::Event& e : batch.events) {
    const PeerFields* p = find_peer(peers, e.offset, hint);
    e.offset = 0;
    if (SyslogError err = parse_syslog(e.message, format, m); err == SyslogError::kNone) {
      set_syslog_fields(batch, e, m, tz);
    } else {
      core::add_tag(e, "syslog_invalid", batch.arena);
      stats.parse_errors.add(error_reason(err));
    }
    if (p) set_peer_fields(batch, e, *p);
  }
}

}  // namespace bifrost::inputs::syslog
