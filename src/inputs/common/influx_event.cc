#include "inputs/common/influx_event.h"

#include "common/influx/reader.h"
#include "core/event.h"

namespace bifrost::inputs {

common::influx::Precision read_influx_precision(config::MapReader& r) {
  return *common::influx::parse_precision(
      r.choice("precision", "ns", {"ns", "us", "ms", "s"}, "decoding: influx: the unit of the points' times"));
}

bool InfluxLines::decode(core::Batch& b, core::Event& e, NetStats& stats) {
  common::influx::Reader reader(e.message, precision_, b.arena);
  auto line = reader.next();
  if (line && line->point) {
    common::influx::set_point(e, *line->point, b.arena);
    return true;
  }
  counters_.add_invalid(line ? line->point.error().code : common::influx::Errc::kNoFields, 1);
  stats.parse_errors.add("influx");
  core::add_tag(e, tag_, b.arena);
  return false;
}

}  // namespace bifrost::inputs
