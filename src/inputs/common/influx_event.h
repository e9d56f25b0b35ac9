// `decoding: influx` of the network inputs (tcp, http): each line of
// InfluxDB line protocol becomes the event parse_influx makes
// (measurement, tags, fields, the point's time). A line that is not a
// point stays as its text, tagged `<input>_influx_invalid`, counted in
// bifrost_influx_points_invalid_total by reason and in the input's parse
// errors ("influx"); the lines around it go on.
#pragma once

#include <memory>
#include <string>

#include "common/influx/metrics.h"
#include "common/influx/point.h"
#include "config/reader.h"
#include "core/batch.h"
#include "inputs/common/net_metrics.h"

namespace bifrost::inputs {

// The `precision` option of decoding: influx.
common::influx::Precision read_influx_precision(config::MapReader& r);

class InfluxLines {
 public:
  // `stats` may be null (bifrost test).
  InfluxLines(common::influx::Precision precision, core::ComponentStats* stats, std::string invalid_tag)
      : precision_(precision),
        counters_(stats, /*invalid=*/true, /*out_of_range=*/false),
        tag_(std::move(invalid_tag)) {}

  // Makes `e` (its message one line) the point its message holds; false,
  // with `e` tagged and counted, when it holds none.
  bool decode(core::Batch& b, core::Event& e, NetStats& stats);
  // Publishes the counters (after a batch that had bad lines).
  void publish() { counters_.publish(); }

 private:
  common::influx::Precision precision_;
  common::influx::PointCounters counters_;
  std::string tag_;
};

}  // namespace bifrost::inputs
