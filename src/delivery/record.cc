#include "delivery/record.h"

#include <charconv>

#include "core/json.h"
#include "core/json_value.h"
#include "core/secrets.h"

namespace bifrost::delivery {

void append_record(std::string& out, const core::Event& e, const RecordMeta& meta, core::Rfc3339Cache& cache) {
  char now[core::kRfc3339NsLen];
  core::format_rfc3339_ns(meta.now_ns, now);
  out.append("{\"time\":\"").append(now, sizeof now).append("\",\"pipeline\":");
  core::append_json_string(out, meta.pipeline);
  out.append(",\"component\":");
  core::append_json_string(out, meta.component);
  out.append(",\"attempts\":").append(std::to_string(meta.attempts)).append(",\"error\":");
  if (core::secrets::any()) {
    // An error may quote what a server echoed back (a header, a URL).
    core::append_json_string(out, core::secrets::masked(meta.error));
  } else {
    core::append_json_string(out, meta.error);
  }
  out.append(",\"ts\":").append(std::to_string(e.timestamp_ns)).append(",\"event\":");
  core::append_event_json(out, e, cache);
  out.append("}\n");
}

Result<DecodedRecord> decode_record(std::string_view line, core::Batch& batch) {
  auto v = core::parse_json_value(line, batch.arena);
  if (!v || !v->is_object()) return core::fail(Errc::kCorrupt, "not a JSON object");
  const core::Value* event = v->find("event");
  const core::Value* ts = v->find("ts");
  if (!event || !event->is_object()) return core::fail(Errc::kCorrupt, "no \"event\" object");
  if (!ts || ts->kind() != core::Value::Kind::kInt) return core::fail(Errc::kCorrupt, "no integer \"ts\"");
  DecodedRecord meta;
  if (const core::Value* a = v->find("attempts"); a && a->kind() == core::Value::Kind::kInt)
    meta.attempts = a->as_int();
  if (const core::Value* err = v->find("error"); err && err->is_string()) meta.error = std::string(err->as_string());
  core::Event& e = batch.events.emplace_back();
  e.timestamp_ns = ts->as_int();
  for (const core::Member& m : event->members()) {
    if (m.key == "@timestamp") continue;
    if (m.key == "message" && m.value.is_string()) {
      e.message = m.value.as_string();
      continue;
    }
    if (!e.fields.is_object()) e.fields = core::Value::object(batch.arena, 8);
    e.fields.append(m.key, m.value, batch.arena);
  }
  return meta;
}

}  // namespace bifrost::delivery
