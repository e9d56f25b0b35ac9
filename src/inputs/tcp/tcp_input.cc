#include "inputs/tcp/tcp_input.h"

#include <stdexcept>
#include <vector>

#include "inputs/common/influx_event.h"
#include "inputs/common/json_event.h"
#include "inputs/common/peers.h"
#include "inputs/common/stream_reader.h"

namespace bifrost::inputs::tcp {

namespace {

class TcpInput final : public pipeline::Input {
 public:
  TcpInput(const Spec& spec, const pipeline::BuildContext& ctx)
      : json_(spec.json), stats_(std::make_unique<NetStats>()) {
    if (spec.influx) influx_ = std::make_unique<InfluxLines>(spec.precision, ctx.stats, "tcp_influx_invalid");
    auto listener = listen_tcp(spec.net.listen);
    if (!listener) throw std::runtime_error(ctx.component + ": " + listener.error().message);
    StreamOptions options;
    options.max_connections = static_cast<std::size_t>(spec.net.max_connections);
    options.idle_timeout = std::chrono::nanoseconds(spec.net.idle_timeout_ns);
    options.clock = ctx.clock;
    if (spec.net.tls.enabled) {
      auto tls = TlsContext::make(spec.net.tls);
      if (!tls) throw std::runtime_error(ctx.component + ": " + tls.error().message);
      options.tls = *tls;
    }
    StreamReaderOptions read;
    read.framing = Framing::kNewline;
    read.max_message_bytes = spec.max_line_bytes;
    read.read_buffer_bytes = spec.net.read_buffer_bytes;
    read.batch_events = static_cast<std::size_t>(spec.net.batch_events);
    reader_ = std::make_unique<StreamReader>(
        std::make_unique<StreamServer>(std::move(*listener), options, *stats_, ctx.component), read, *stats_,
        ctx.component);
  }

  void run(pipeline::InputContext& ctx) override { reader_->run(ctx); }

  void decorate(core::Batch& batch) const override { decorate_tcp(batch, json_, *stats_, influx_.get()); }

 private:
  bool json_;
  std::unique_ptr<NetStats> stats_;
  std::unique_ptr<InfluxLines> influx_;  // decoding: influx
  std::unique_ptr<StreamReader> reader_;
};

}  // namespace

void decorate_tcp(core::Batch& batch, bool json, NetStats& stats, InfluxLines* influx) {
  thread_local std::vector<PeerFields> peers;
  take_peers(batch, peers);
  std::size_t hint = 0;
  bool bad_points = false;
  for (core::Event& e : batch.events) {
    const PeerFields* p = find_peer(peers, e.offset, hint);
    e.offset = 0;
    if (influx) {
      bad_points |= !influx->decode(batch, e, stats);
    } else if (json && !decode_json_event(batch, e, e.message)) {
      core::add_tag(e, "tcp_json_invalid", batch.arena);
      stats.parse_errors.add("json");
    }
    if (p) set_peer_fields(batch, e, *p);
  }
  if (bad_points) influx->publish();
}

std::unique_ptr<pipeline::Input> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<TcpInput>(*this, ctx);
}

std::unique_ptr<pipeline::InputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  read_listen(r, s->net, "127.0.0.1:5170");
  const std::string decoding =
      r.choice("decoding", "text", {"text", "json", "influx"},
               "text: each line is the message; json: each line is a JSON event (message, @timestamp, fields); "
               "influx: each line is a point of InfluxDB line protocol (measurement, tags, fields, its time)");
  s->json = decoding == "json";
  s->influx = decoding == "influx";
  s->precision = read_influx_precision(r);
  s->max_line_bytes = r.bytes("max_line_bytes", s->max_line_bytes,
                              "longer lines are cut into pieces of this size, each tagged line_cut");
  check_at_least(r, "max_line_bytes", s->max_line_bytes, 16, "16");
  read_connection_limits(r, s->net);
  read_batching(r, s->net);
  read_tls_server(r, s->net.tls, "TLS, with optional client certificates");
  return s;
}

}  // namespace bifrost::inputs::tcp
