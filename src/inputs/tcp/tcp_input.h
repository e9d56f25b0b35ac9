// Input `tcp`: newline-delimited messages over TCP (or TLS), from any
// number of connections. Each line is an event (`decoding: text`) or a
// JSON object that becomes the event (`decoding: json`); every event gets
// `source.ip` and `source.port` of its peer, and `tls.client.subject` when
// the client sent a certificate.
//
// Lines longer than max_line_bytes are cut into pieces, each tagged
// line_cut, as the file input does; a line that is not a JSON object under
// `decoding: json` stays as its text, tagged tcp_json_invalid. Reading,
// limits and backpressure: inputs/common/stream_reader.h.
#pragma once

#include <memory>

#include "config/reader.h"
#include "inputs/common/net_metrics.h"
#include "inputs/common/net_settings.h"
#include "pipeline/component.h"

namespace bifrost::inputs::tcp {

struct Spec final : pipeline::InputSpec {
  NetSettings net;
  bool json = false;
  std::uint64_t max_line_bytes = 1u << 20;
  std::unique_ptr<pipeline::Input> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::InputSpec> parse(config::MapReader& r);

// The tcp input's decorate(): source fields, and decoding: json.
void decorate_tcp(core::Batch& batch, bool json, NetStats& stats);

}  // namespace bifrost::inputs::tcp
