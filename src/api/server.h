// The HTTP API on `api.listen`: GET /metrics (Prometheus), /health (the
// process is alive), /ready (every pipeline running; 503 while starting,
// reloading or stopping), /tap (live events as chunked NDJSON).
// With a token, /metrics and /tap require `Authorization: Bearer TOKEN`;
// /health and /ready stay open for probes.
//
// Threads: cpp-httplib's own pool; handlers only read stats and attach tap
// listeners, so a slow client never touches the data path.
#pragma once

#include <atomic>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "pipeline/runtime.h"

namespace httplib {
class Server;
}

namespace bifrost::api {

struct ServerOptions {
  std::string listen;  // HOST:PORT; port 0 picks a free one
  std::string token;   // empty: no authentication
};

class Server {
 public:
  using RuntimeSource = std::function<std::shared_ptr<pipeline::Runtime>()>;
  Server(ServerOptions options, RuntimeSource runtime, std::function<bool()> ready);
  ~Server();

  // Binds and serves on a thread. Returns the address it listens on.
  std::expected<std::string, std::string> start();
  void stop();

 private:
  bool authorized(const void* request) const;

  ServerOptions options_;
  RuntimeSource runtime_;
  std::function<bool()> ready_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

// Splits "HOST:PORT"; false when it is not that.
bool split_host_port(const std::string& listen, std::string& host, int& port);

}  // namespace bifrost::api
