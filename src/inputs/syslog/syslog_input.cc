#include "inputs/syslog/syslog_input.h"

#include <stdexcept>

#include "core/log.h"
#include "inputs/common/stream_reader.h"
#include "inputs/common/udp_reader.h"

namespace bifrost::inputs::syslog {

namespace {

class SyslogInput final : public pipeline::Input {
 public:
  SyslogInput(const Spec& spec, const pipeline::BuildContext& ctx)
      : format_(spec.format), tz_(spec.timezone), stats_(std::make_unique<NetStats>()) {
    const auto fail = [&](const std::string& why) { throw std::runtime_error(ctx.component + ": " + why); };
    if (spec.mode == Spec::Mode::kUdp) {
      std::uint64_t granted = 0;
      auto sock = bind_udp(spec.net.listen, spec.receive_buffer_bytes, granted);
      if (!sock) fail(sock.error().message);
      // The kernel reports twice the usable size it granted.
      if (granted / 2 < spec.receive_buffer_bytes) {
        core::log::warn(ctx.component, "receive_buffer_bytes: asked for ", spec.receive_buffer_bytes, ", got ",
                        granted / 2, " (raise net.core.rmem_max, or run with CAP_NET_ADMIN)");
      }
      UdpReaderOptions o;
      o.max_message_bytes = spec.max_message_bytes;
      o.read_buffer_bytes = spec.net.read_buffer_bytes;
      o.batch_events = static_cast<std::size_t>(spec.net.batch_events);
      o.clock = ctx.clock;
      udp_ = std::make_unique<UdpReader>(std::move(*sock), o, *stats_, ctx.component);
      return;
    }
    auto listener = listen_tcp(spec.net.listen);
    if (!listener) fail(listener.error().message);
    StreamOptions options;
    options.max_connections = static_cast<std::size_t>(spec.net.max_connections);
    options.idle_timeout = std::chrono::nanoseconds(spec.net.idle_timeout_ns);
    options.clock = ctx.clock;
    if (spec.mode == Spec::Mode::kTls) {
      auto tls = TlsContext::make(spec.net.tls);
      if (!tls) fail(tls.error().message);
      options.tls = *tls;
    }
    StreamReaderOptions read;
    read.framing = spec.framing;
    read.max_message_bytes = spec.max_message_bytes;
    read.read_buffer_bytes = spec.net.read_buffer_bytes;
    read.batch_events = static_cast<std::size_t>(spec.net.batch_events);
    stream_ = std::make_unique<StreamReader>(
        std::make_unique<StreamServer>(std::move(*listener), options, *stats_, ctx.component), read, *stats_,
        ctx.component);
  }

  void run(pipeline::InputContext& ctx) override {
    if (udp_) udp_->run(ctx);
    else stream_->run(ctx);
  }

  void decorate(core::Batch& batch) const override { decorate_syslog(batch, format_, tz_, *stats_); }

 private:
  Format format_;
  TimeZone tz_;
  std::unique_ptr<NetStats> stats_;
  std::unique_ptr<UdpReader> udp_;
  std::unique_ptr<StreamReader> stream_;
};

}  // namespace

std::unique_ptr<pipeline::Input> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<SyslogInput>(*this, ctx);
}

std::unique_ptr<pipeline::InputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  const std::string mode = r.choice("mode", "udp", {"udp", "tcp", "tls"},
                                    "udp: one message per datagram; tcp and tls: a stream framed per RFC 6587");
  s->mode = mode == "tcp" ? Spec::Mode::kTcp : mode == "tls" ? Spec::Mode::kTls : Spec::Mode::kUdp;
  read_listen(r, s->net, "127.0.0.1:5514");
  const std::string format = r.choice("format", "auto", {"auto", "rfc3164", "rfc5424"},
                                      "auto: RFC 5424 when a version follows <PRI>, else RFC 3164 (BSD syslog)");
  s->format = format == "rfc3164" ? Format::kRfc3164 : format == "rfc5424" ? Format::kRfc5424 : Format::kAuto;
  auto framing_node = r.get("framing", "auto | octet_counting | newline", "auto",
                            "tcp and tls: auto (per connection: a digit first means octet counting), "
                            "octet_counting or newline");
  auto zone = r.get("timezone", "IANA time zone", "UTC",
                    "the zone of RFC 3164 times, which carry none (such as Europe/Berlin, or Local)");
  s->max_message_bytes = r.bytes("max_message_bytes", s->max_message_bytes,
                                 "longer messages are cut into pieces of this size, each tagged line_cut");
  check_at_least(r, "max_message_bytes", s->max_message_bytes, 16, "16");
  s->receive_buffer_bytes =
      r.bytes("receive_buffer_bytes", s->receive_buffer_bytes,
              "udp: the socket's receive buffer, where datagrams wait while the pipeline is busy (the kernel drops "
              "them past it, counted as udp_overflow)");
  read_connection_limits(r, s->net);
  read_batching(r, s->net);
  read_tls_server(r, s->net.tls, "mode tls: the server's certificate, and client certificates");
  if (r.describing()) return s;
  if (framing_node) {
    if (auto v = config::parse_choice(*framing_node, {"auto", "octet_counting", "newline"})) {
      s->framing = *v == "octet_counting" ? Framing::kOctetCounting
                   : *v == "newline"      ? Framing::kNewline
                                          : Framing::kAuto;
      if (s->mode == Spec::Mode::kUdp)
        framing_node->error("framing applies to mode tcp and tls (a datagram is one message)");
    }
  }
  if (zone) {
    if (auto name = zone->scalar("an IANA time zone")) {
      if (*name == "Local" || *name == "local") {
        s->timezone.zone = absl::LocalTimeZone();
        s->timezone.utc = false;
      } else if (!absl::LoadTimeZone(*name, &s->timezone.zone)) {
        zone->error("unknown time zone \"" + *name + "\" (an IANA name such as Europe/Berlin, UTC or Local)");
      } else {
        s->timezone.utc = *name == "UTC" || *name == "Etc/UTC";
      }
    }
  }
  if (s->mode == Spec::Mode::kTls && !s->net.tls.enabled) {
    auto n = r.node().yaml()["mode"];
    r.node().child("mode", n).error("mode: tls needs tls: {cert_file, key_file}");
  }
  if (s->mode != Spec::Mode::kTls && s->net.tls.enabled) {
    if (auto n = r.node().yaml()["tls"]; n.IsDefined())
      r.node().child("tls", n).error("tls: applies to mode: tls (mode is " + mode + ")");
  }
  return s;
}

}  // namespace bifrost::inputs::syslog
