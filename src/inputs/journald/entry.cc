#include "inputs/journald/entry.h"

#include <charconv>

namespace bifrost::inputs::journald {

namespace {
bool number(std::string_view s, std::int64_t& out) {
  if (s.empty() || s.size() > 18) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}
}  // namespace

EntryBuilder::EntryBuilder(core::Batch& b, core::Event& e) : b_(b), e_(e) {
  if (!e_.fields.is_object()) e_.fields = core::Value::object(b_.arena, 6);
  journald_ = core::Value::object(b_.arena, 16);
}

core::Value& EntryBuilder::object(core::Value& parent, std::string_view key, std::uint32_t n) {
  if (core::Value* v = parent.find(key); v && v->is_object()) return *v;
  return parent.set(key, core::Value::object(b_.arena, n), b_.arena);
}

void EntryBuilder::field(std::string_view name, std::string_view value) {
  std::int64_t n = 0;
  core::Value s = core::Value::string(value);
  if (name == "MESSAGE") {
    e_.message = value;
  } else if (name == "_SYSTEMD_UNIT") {
    object(e_.fields, "systemd", 2).set("unit", s, b_.arena);
  } else if (name == "_PID" && number(value, n)) {
    object(e_.fields, "process", 2).set("pid", core::Value::integer(n), b_.arena);
  } else if (name == "_COMM") {
    object(e_.fields, "process", 2).set("name", s, b_.arena);
  } else if (name == "PRIORITY" && number(value, n)) {
    object(object(e_.fields, "log", 1), "syslog", 4).set("priority", core::Value::integer(n), b_.arena);
  } else if (name == "SYSLOG_FACILITY" && number(value, n)) {
    core::Value& sys = object(object(e_.fields, "log", 1), "syslog", 4);
    object(sys, "facility", 1).set("code", core::Value::integer(n), b_.arena);
  } else if (name == "SYSLOG_IDENTIFIER") {
    object(object(e_.fields, "log", 1), "syslog", 4).set("appname", s, b_.arena);
  } else if (name == "_HOSTNAME") {
    object(e_.fields, "host", 1).set("hostname", s, b_.arena);
  } else {
    if (name == "_SOURCE_REALTIME_TIMESTAMP" && number(value, n)) source_us_ = n;
    journald_.set(name, s, b_.arena);
  }
}

void EntryBuilder::finish(std::int64_t realtime_us) {
  e_.timestamp_ns = (source_us_ >= 0 ? source_us_ : realtime_us) * 1000;
  if (journald_.members().size() > 0) e_.fields.set("journald", journald_, b_.arena);
}

}  // namespace bifrost::inputs::journald
