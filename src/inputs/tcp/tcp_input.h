// Input `tcp`: newline-delimited messages over TCP (or TLS), from any
// number of connections. Each line is an event (`decoding: text`), a
// JSON object that becomes the event (`decoding: json`), or a point of
// InfluxDB line protocol (`decoding: influx`, as Telegraf's socket_writer
// sends them: inputs/common/influx_event.h); every event gets
// `source.ip` and `source.port` of its peer, and `tls.client.subject` when
// the client sent a certificate.
//
// Lines longer than max_line_bytes are cut into pieces, each tagged
// line_cut, as the file input does; a line that is not a JSON object under
// `decoding: json` stays as its text, tagged tcp_json_invalid. Reading,
// limits and backpressure: inputs/common/stream_reader.h.
#pragma once

#include <memory>
#include <vector>

#include "config/reader.h"
#include "inputs/common/influx_event.h"
#include "inputs/common/net_metrics.h"
#include "inputs/common/net_settings.h"
#include "pipeline/component.h"

namespace bifrost::inputs::tcp {

struct Spec final : pipeline::InputSpec {
  NetSettings net;
  bool json = false;
  bool influx = false;
  common::influx::Precision precision = common::influx::Precision::kNs;
  std::uint64_t max_line_bytes = 1u << 20;
  std::unique_ptr<pipeline::Input> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::InputSpec> parse(config::MapReader& r);

inline std::vector<const core::MetricFamily*> metric_families() {
  auto all = net_metric_families();
  all.push_back(&common::influx::kInvalidPoints);  // decoding: influx
  return all;
}

// The tcp input's decorate(): source fields, and decoding: json (or
// influx, with `influx`).
void decorate_tcp(core::Batch& batch, bool json, NetStats& stats, InfluxLines* influx = nullptr);

}  // namespace bifrost::inputs::tcp
