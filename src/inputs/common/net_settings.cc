#include "inputs/common/net_settings.h"

namespace bifrost::inputs {

void read_listen(config::MapReader& r, NetSettings& s, const std::string& def) {
  auto n = r.get("listen", "HOST:PORT", def,
                 "the address to listen on: an IPv4 address, [an IPv6 address] or localhost, and a port (0: any "
                 "free one, logged)");
  if (r.describing()) return;
  std::string text = def;
  if (n) {
    auto v = n->scalar("HOST:PORT");
    if (!v) return;
    text = *v;
  }
  auto a = parse_listen(text);
  if (!a) {
    if (n) n->error(a.error().message);
    return;
  }
  s.listen = *a;
}

void read_connection_limits(config::MapReader& r, NetSettings& s) {
  s.max_connections = r.integer("max_connections", s.max_connections, 1, 1 << 20,
                                "connections open at once at most; more are closed at once (counted as refused)");
  s.idle_timeout_ns =
      r.duration_ns("idle_timeout", s.idle_timeout_ns, "a connection that sends nothing for this long is closed");
  if (s.idle_timeout_ns <= 0 && !r.describing()) {
    if (auto n = r.node().yaml()["idle_timeout"]; n.IsDefined())
      r.node().child("idle_timeout", n).error("must be more than 0");
  }
}

void read_batching(config::MapReader& r, NetSettings& s) {
  s.read_buffer_bytes = r.bytes("read_buffer_bytes", s.read_buffer_bytes, "bytes read per batch at most");
  s.batch_events = r.integer("batch_events", s.batch_events, 1, 1 << 20, "events per batch at most");
  check_at_least(r, "read_buffer_bytes", s.read_buffer_bytes, 4096, "4096");
}

void check_at_least(config::MapReader& r, const char* key, std::uint64_t value, std::uint64_t min,
                    const std::string& what) {
  if (value >= min || r.describing()) return;
  if (auto n = r.node().yaml()[key]; n.IsDefined()) r.node().child(key, n).error("must be at least " + what);
}

}  // namespace bifrost::inputs
