#include "inputs/kafka/decoding.h"

#include <absl/time/time.h>

#include "common/influx/reader.h"
#include "core/json_value.h"
#include "core/log.h"

namespace bifrost::inputs::kafka {

void RecordDecoder::start(core::ComponentStats* stats) {
  if (spec_.decoding == Spec::Decoding::kInflux && !influx_) {
    influx_ = std::make_unique<common::influx::PointCounters>(stats, true, false);
  }
}

void RecordDecoder::decode(core::Batch& b, std::uint64_t offset, std::int64_t time_ns, std::string_view value,
                           core::Value meta) {
  if (spec_.decoding == Spec::Decoding::kInflux) {
    decode_influx(b, offset, time_ns, value, meta);
    return;
  }
  core::Event& e = b.events.emplace_back();
  e.offset = offset;
  e.timestamp_ns = time_ns;
  e.message = value;
  if (spec_.decoding == Spec::Decoding::kJson) decode_json(b, e, value);
  if (!e.fields.is_object()) e.fields = core::Value::object(b.arena, 2);
  e.fields.set("kafka", meta, b.arena);
}

void RecordDecoder::published(const core::Batch& b) {
  if (bad_in_batch_ == 0) return;
  // Once a batch, without the line (the log rate-limits by message).
  core::log::warn(id_, "decoding: influx: ", bad_in_batch_, " line(s) of ", b.source,
                  " that are not points, kept as text, tagged kafka_influx_invalid; one: ", first_bad_);
  influx_->publish();
  bad_in_batch_ = 0;
}

// decoding: json — a record holding bifrost's JSON event (or any JSON
// object) becomes the event: `message`, `@timestamp` and the fields. A
// record that is not a JSON object stays as its text, tagged.
void RecordDecoder::decode_json(core::Batch& b, core::Event& e, std::string_view value) {
  auto v = core::parse_json_value(value, b.arena);
  if (!v || !v->is_object()) {
    core::add_tag(e, "kafka_json_invalid", b.arena);
    core::log::warn(id_, "decoding: json: record ", e.offset, " of ", b.source,
                    " is not a JSON object; kept as text, tagged kafka_json_invalid");
    return;
  }
  e.fields = core::Value::object(b.arena, static_cast<std::uint32_t>(v->members().size()) + 1);
  e.message = {};
  for (const core::Member& m : v->members()) {
    if (m.key == "message" && m.value.is_string()) {
      e.message = m.value.as_string();
    } else if (m.key == "@timestamp" && m.value.is_string()) {
      absl::Time t;
      std::string_view s = m.value.as_string();
      if (absl::ParseTime(absl::RFC3339_full, absl::string_view(s.data(), s.size()), &t, nullptr)) {
        e.timestamp_ns = absl::ToUnixNanos(t);
      } else {
        e.fields.append(m.key, m.value, b.arena);
      }
    } else {
      e.fields.append(m.key, m.value, b.arena);
    }
  }
}

// decoding: influx — each line of the record one event (as parse_influx
// makes them: measurement, tags, fields, the point's time), holding the
// record's metadata. A line that is not a point, or a record with none,
// stays as its text, tagged kafka_influx_invalid, and is counted (a record
// with no line at all as no_fields).
void RecordDecoder::decode_influx(core::Batch& b, std::uint64_t offset, std::int64_t time_ns, std::string_view text,
                                  core::Value meta) {
  const core::Value shared = meta.freeze(b.arena);  // every event of the record holds it
  auto make = [&](std::string_view message) -> core::Event& {
    core::Event& e = b.events.emplace_back();
    e.offset = offset;
    e.timestamp_ns = time_ns;
    e.message = message;
    e.fields = core::Value::object(b.arena, 4);
    e.fields.append("kafka", shared, b.arena);
    return e;
  };
  auto invalid = [&](core::Event& e, common::influx::Errc code, std::string_view why) {
    influx_->add_invalid(code, 1);
    if (bad_in_batch_++ == 0) first_bad_ = why;
    core::add_tag(e, "kafka_influx_invalid", b.arena);
  };
  common::influx::Reader reader(text, spec_.precision, b.arena);
  bool any = false;
  while (auto line = reader.next()) {
    any = true;
    core::Event& e = make(line->text);
    if (line->point) {
      common::influx::set_point(e, *line->point, b.arena);
    } else {
      invalid(e, line->point.error().code, line->point.error().message);
    }
  }
  if (!any) invalid(make(text), common::influx::Errc::kNoFields, "a record with no line of line protocol");
}

}  // namespace bifrost::inputs::kafka
