#include "api/server.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>

#include "api/metrics.h"
#include "core/json.h"
#include "core/log.h"
#include "core/secrets.h"

namespace bifrost::api {

namespace {

constexpr std::size_t kTapMaxPendingBytes = 4u << 20;

}  // namespace

bool split_host_port(const std::string& listen, std::string& host, int& port) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const char* b = listen.data() + colon + 1;
  const char* e = listen.data() + listen.size();
  auto r = std::from_chars(b, e, port);
  return r.ec == std::errc() && r.ptr == e && port >= 0 && port <= 65535;
}

bool is_loopback(const std::string& host) { return host == "localhost" || host == "::1" || host.starts_with("127."); }

Server::Server(ServerOptions options, RuntimeSource runtime, std::function<bool()> ready)
    : options_(std::move(options)),
      runtime_(std::move(runtime)),
      ready_(std::move(ready)),
      metrics_(std::make_unique<Metrics>(runtime_, options_.metric_families)) {}

Server::~Server() { stop(); }

bool Server::authorized(const void* request, const char* path) const {
  if (options_.token.empty()) return true;
  const auto& open = options_.public_paths;
  if (std::find(open.begin(), open.end(), path) != open.end()) return true;
  const auto& req = *static_cast<const httplib::Request*>(request);
  std::string auth = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.compare(0, kBearer.size(), kBearer) != 0) return false;
  return core::secrets::constant_time_equal(std::string_view(auth).substr(kBearer.size()), options_.token);
}

core::Result<std::string, Error> Server::start() {
  std::string host;
  int port = 0;
  if (!split_host_port(options_.listen, host, port)) return core::fail(Errc::kListen, "api.listen: expected HOST:PORT");
  if (!options_.tls_cert_file.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(options_.tls_cert_file.c_str(), options_.tls_key_file.c_str());
    if (!tls->is_valid()) {
      return core::fail(Errc::kTls, "api.tls: cannot load the certificate " + options_.tls_cert_file +
                                        " with the key " + options_.tls_key_file +
                                        " (PEM files, and a matching pair?)");
    }
    SSL_CTX_set_min_proto_version(tls->ssl_context(), TLS1_2_VERSION);
    http_ = std::move(tls);
  } else {
    http_ = std::make_unique<httplib::Server>();
  }
  auto& s = *http_;
  auto deny = [](httplib::Response& res) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer");
    res.set_content("unauthorized: send Authorization: Bearer TOKEN\n", "text/plain");
  };

  s.Get("/health", [this, deny](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(&req, "/health")) return deny(res);
    res.set_content("ok\n", "text/plain");
  });

  s.Get("/ready", [this, deny](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(&req, "/ready")) return deny(res);
    bool ready = ready_() && !stopping_.load();
    res.status = ready ? 200 : 503;
    res.set_content(ready ? "ready\n" : "not ready\n", "text/plain");
  });

  s.Get("/metrics", [this, deny](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(&req, "/metrics")) return deny(res);
    res.set_content(metrics_->render(), "text/plain; version=0.0.4; charset=utf-8");
  });

  s.Get("/tap", [this, deny](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(&req, "/tap")) return deny(res);
    auto fail = [&](int status, const std::string& msg) {
      res.status = status;
      res.set_content(msg + "\n", "text/plain");
    };
    std::string component = req.get_param_value("component");
    std::string pipeline_id = req.get_param_value("pipeline");
    if (component.empty()) return fail(400, "give component=ID");
    std::uint64_t limit = UINT64_MAX;
    if (req.has_param("limit")) {
      std::string l = req.get_param_value("limit");
      auto r = std::from_chars(l.data(), l.data() + l.size(), limit);
      if (r.ec != std::errc() || r.ptr != l.data() + l.size() || limit == 0)
        return fail(400, "limit: expected a positive integer");
    }
    std::uint64_t rate = 1000;
    if (req.has_param("rate")) {
      std::string v = req.get_param_value("rate");
      auto r = std::from_chars(v.data(), v.data() + v.size(), rate);
      if (r.ec != std::errc() || r.ptr != v.data() + v.size())
        return fail(400, "rate: expected a whole number (0: no bound)");
    }
    std::optional<expr::Condition> when;
    if (req.has_param("when")) {
      auto parsed = expr::Condition::parse(req.get_param_value("when"));
      if (auto* e = std::get_if<expr::ParseError>(&parsed)) {
        return fail(400, "when: invalid condition at offset " + std::to_string(e->offset) + ": " + e->message);
      }
      when = std::move(std::get<expr::Condition>(parsed));
    }
    auto rt = runtime_();
    if (!rt) return fail(503, "not running");
    pipeline::Pipeline* found = nullptr;
    for (const auto& p : rt->pipelines) {
      if (!pipeline_id.empty() && p->id() != pipeline_id) continue;
      if (!p->tap(component)) continue;
      if (found) return fail(400, "component " + component + " is in several pipelines; give pipeline=ID");
      found = p.get();
    }
    if (!found)
      return fail(404, "no component " + component + (pipeline_id.empty() ? "" : " in pipeline " + pipeline_id));
    auto listener = std::make_shared<pipeline::TapListener>(std::move(when), limit, kTapMaxPendingBytes, rate);
    found->tap(component)->attach(listener);
    // Hold the runtime weakly: a reload or stop destroys it, which closes
    // the listener and ends this stream.
    std::weak_ptr<pipeline::Runtime> weak = rt;
    std::string pid = found->id();
    rt.reset();
    res.set_chunked_content_provider(
        "application/x-ndjson",
        [this, listener](std::size_t, httplib::DataSink& sink) {
          std::string chunk;
          bool more = listener->take(chunk, std::chrono::milliseconds(200));
          if (!chunk.empty() && !sink.write(chunk.data(), chunk.size())) return false;
          if (!sink.is_writable()) return false;
          if (!more || stopping_.load()) sink.done();
          return true;
        },
        [weak, pid, component, listener](bool) {
          listener->close();
          if (auto rt = weak.lock()) {
            if (auto* p = rt->find(pid)) {
              if (auto* t = p->tap(component)) t->detach(listener);
            }
          }
        });
  });

  s.Post("/reload", [this, deny](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(&req, "/reload")) return deny(res);
    if (!options_.reload) {
      res.status = 501;
      res.set_content("{\"status\":\"failed\",\"message\":\"reload is not available\"}\n", "application/json");
      return;
    }
    if (stopping_.load()) {
      res.status = 503;
      res.set_content("{\"status\":\"failed\",\"message\":\"bifrost is stopping\"}\n", "application/json");
      return;
    }
    ReloadOutcome r = options_.reload();
    using S = ReloadOutcome::Status;
    res.status = r.status == S::kReloaded ? 200 : r.status == S::kInvalid ? 422 : 500;
    std::string body = "{\"status\":";
    core::append_json_string(body, r.status == S::kReloaded  ? "reloaded"
                                   : r.status == S::kInvalid ? "invalid"
                                                             : "failed");
    body += ",\"config\":";
    core::append_json_string(body, r.config);
    body += ",\"message\":";
    core::append_json_string(body, r.message);
    body += "}\n";
    res.set_content(body, "application/json");
  });

  int bound = port == 0 ? s.bind_to_any_port(host) : (s.bind_to_port(host, port) ? port : -1);
  if (bound < 0)
    return core::fail(Errc::kListen,
                      "api.listen " + options_.listen + ": cannot listen (address in use, or not local?)");
  thread_ = std::thread([this] {
    http_->listen_after_bind();
    listen_returned_.store(true);
  });
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(bound);
}

void Server::stop() {
  stopping_.store(true);
  if (http_ && thread_.joinable()) {
    // httplib's stop() does nothing until listen_after_bind() has marked the
    // server running on its thread: a stop right after start (stdin empty at
    // once) would be lost and the join below would wait for ever.
    while (!http_->is_running() && !listen_returned_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    http_->stop();
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace bifrost::api
