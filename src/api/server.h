// The HTTP API on `api.listen`: GET /metrics (Prometheus), /health (the
// process is alive), /ready (every pipeline running; 503 while starting,
// reloading or stopping), /tap (live events as chunked NDJSON), POST /reload
// (reload the config; answers once the new pipelines run, or with why not).
// With a token, every path requires `Authorization: Bearer TOKEN` (compared
// in constant time) but the public ones: by default /health and /ready
// (for probes), or exactly those `api.public` lists (of /health, /ready,
// /metrics; /tap and /reload never). Without a token every path is open.
// With a certificate (`api.tls`) it serves HTTPS only.
//
// Threads: cpp-httplib's own pool; handlers only read stats and attach tap
// listeners, so a slow client never touches the data path. A /reload handler
// waits for the daemon's main thread, which does the reload.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "core/stats.h"
#include "pipeline/runtime.h"

namespace httplib {
class Server;
}

namespace bifrost::api {

class Metrics;

enum class Errc : std::uint8_t {
  kListen,  // api.listen is not HOST:PORT, or cannot be bound
  kTls,     // the certificate or key cannot be loaded
};
using Error = core::Error<Errc>;

// What a reload asked for through POST /reload came to.
struct ReloadOutcome {
  enum class Status : std::uint8_t {
    kReloaded,  // the new pipelines run
    kInvalid,   // the config is invalid: the running one stays
    kFailed,    // something else (the pipelines could not be built, bifrost is stopping)
  };
  Status status = Status::kFailed;
  std::string message;  // a summary, or every error (FILE:LINE:COL: ... lines)
  std::string config;   // the config file or directory the daemon read
};

struct ServerOptions {
  std::string listen;                                             // HOST:PORT; port 0 picks a free one
  std::string token;                                              // empty: no authentication
  std::vector<std::string> public_paths = {"/health", "/ready"};  // served without the token
  std::string tls_cert_file, tls_key_file;                        // both: HTTPS
  // The metric families the component types declare (shown on /metrics).
  std::vector<const core::MetricFamily*> metric_families;
  // POST /reload: asks the daemon to reload and waits for the outcome (on an
  // httplib thread). Empty: /reload answers 501.
  std::function<ReloadOutcome()> reload;
};

class Server {
 public:
  using RuntimeSource = std::function<std::shared_ptr<pipeline::Runtime>()>;
  Server(ServerOptions options, RuntimeSource runtime, std::function<bool()> ready);
  ~Server();

  // Binds and serves on a thread. Returns the address it listens on, or
  // kListen with why.
  core::Result<std::string, Error> start();
  void stop();

 private:
  bool authorized(const void* request, const char* path) const;

  ServerOptions options_;
  RuntimeSource runtime_;
  std::function<bool()> ready_;
  std::unique_ptr<Metrics> metrics_;  // made once; reads the runtime the source gives at each scrape
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listen_returned_{false};  // the listening thread is done
};

// Splits "HOST:PORT"; false when it is not that.
bool split_host_port(const std::string& listen, std::string& host, int& port);

// Whether HOST is a loopback address (127.0.0.0/8, ::1, localhost): only
// this host's users reach it.
bool is_loopback(const std::string& host);

}  // namespace bifrost::api
