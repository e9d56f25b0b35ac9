// Input `syslog`: syslog messages over UDP, TCP or TLS (RFC 5424 and RFC
// 3164; RFC 6587 framing over TCP), parsed into Elastic Common Schema
// fields (fields.h). A line that is not syslog (no or a bad <PRI>, a
// broken RFC 5424 header) is kept whole as the message, tagged
// syslog_invalid, and counted by reason.
//
// Reading, limits and backpressure: inputs/common/stream_reader.h (TCP,
// TLS) and inputs/common/udp_reader.h (UDP). Parsing runs in decorate(),
// on the pipeline's workers, so the input thread only frames.
#pragma once

#include <memory>

#include "config/reader.h"
#include "inputs/common/framing.h"
#include "inputs/common/net_settings.h"
#include "inputs/syslog/fields.h"
#include "inputs/syslog/message.h"
#include "pipeline/component.h"

namespace bifrost::inputs::syslog {

struct Spec final : pipeline::InputSpec {
  enum class Mode : std::uint8_t { kUdp, kTcp, kTls };
  Mode mode = Mode::kUdp;
  NetSettings net;
  Format format = Format::kAuto;
  Framing framing = Framing::kAuto;
  TimeZone timezone;
  std::uint64_t max_message_bytes = 64u << 10;
  std::uint64_t receive_buffer_bytes = 4u << 20;
  std::unique_ptr<pipeline::Input> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::InputSpec> parse(config::MapReader& r);

}  // namespace bifrost::inputs::syslog
