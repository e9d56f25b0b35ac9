// The keys the network inputs share, read by one function each so they are
// spelt, defaulted and checked alike (tcp, syslog, http):
//
//   listen: 127.0.0.1:5514        HOST:PORT; loopback unless said otherwise
//   max_connections: 256          more are closed at once (counted as refused)
//   idle_timeout: 5m              a connection silent this long is closed
//   read_buffer_bytes: 256KiB     bytes read per batch at most
//   batch_events: 2048            events per batch at most
//   tls: {...}                    see tls_server.h
//
// Pure: nothing is bound or opened while reading.
#pragma once

#include <cstdint>
#include <string>

#include "config/reader.h"
#include "inputs/common/net_address.h"
#include "inputs/common/tls_server.h"

namespace bifrost::inputs {

struct NetSettings {
  ListenAddress listen;
  std::int64_t max_connections = 256;
  std::int64_t idle_timeout_ns = 300'000'000'000;
  std::uint64_t read_buffer_bytes = 256u << 10;
  std::int64_t batch_events = 2048;
  TlsServerSettings tls;
};

// `listen`, with `def` as its default.
void read_listen(config::MapReader& r, NetSettings& s, const std::string& def);
// max_connections, idle_timeout (defaults: what `s` holds).
void read_connection_limits(config::MapReader& r, NetSettings& s);
// read_buffer_bytes, batch_events.
void read_batching(config::MapReader& r, NetSettings& s);

// Reports "must be at least ..." at `key` when `value` is below `min`.
void check_at_least(config::MapReader& r, const char* key, std::uint64_t value, std::uint64_t min,
                    const std::string& what);

}  // namespace bifrost::inputs
