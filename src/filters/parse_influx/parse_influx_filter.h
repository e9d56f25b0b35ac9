// Filter `parse_influx`: `field` (default `message`) holds InfluxDB line
// protocol, as Telegraf writes it (common/influx/reader.h has the grammar);
// each line becomes one event, in place of the one it came from and in the
// order of the lines (Filter::expand): a record of many points becomes
// many events, all acknowledged with the record.
//
// A point's event: `measurement`, `tags` (an object) and `fields` (an
// object: 12i int, 12u unsigned kept exactly, floats, booleans, strings) at
// the root of its fields, beside the fields the record's event had (Kafka
// metadata...), which every event made of it shares; its time from the
// point in `precision` units (a point without one keeps the event's time:
// the Kafka record's, or the time it was read); `field` holds its own line.
//
// A line that is not a point becomes an event too (its line in `field`),
// counted by reason (bifrost_influx_points_invalid_total) and handled by
// `on_failure` (keep | tag | drop | reject); the lines after it go on. A
// text with no line at all (empty, only comments) is dropped, reason
// influx_no_points; a `field` that is missing or not a string goes to
// on_failure with reason influx_no_text.
//
// Guard: a point whose time is more than `max_past` before or `max_future`
// after now is counted (bifrost_influx_points_out_of_range_total) and, per
// `action`, clamped to the bound, tagged (`<id>_out_of_range`), dropped or
// rejected to the failed queue (the default).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "common/influx/point.h"
#include "common/influx/time_guard.h"
#include "config/reader.h"
#include "core/event.h"
#include "core/stats.h"
#include "filters/common/on_failure.h"
#include "pipeline/component.h"

namespace bifrost::filters::parse_influx {

enum class GuardAction { kClamp, kTag, kDrop, kReject };

struct Spec final : pipeline::FilterSpec {
  std::optional<core::FieldPath> field;
  common::influx::Precision precision = common::influx::Precision::kNs;
  OnFailure on_failure = OnFailure::kKeep;
  common::influx::TimeGuard guard;
  GuardAction action = GuardAction::kReject;
  std::unique_ptr<pipeline::Filter> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r);

std::vector<const core::MetricFamily*> metric_families();

}  // namespace bifrost::filters::parse_influx
