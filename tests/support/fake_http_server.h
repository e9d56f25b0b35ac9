// A real HTTP server on 127.0.0.1 (a free port), in the test's process,
// answering with the test's handler: the server side of an HTTP output's
// unit tests. It records every request body (decompressed).
#pragma once

#include <httplib.h>

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bifrost::testing {

class FakeHttpServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  explicit FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
    auto serve = [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mu_);
        requests_.push_back({req.method, req.target, req.body, req.get_header_value("Authorization")});
      }
      handler_(req, res);
    };
    server_.Post(".*", serve);
    server_.Put(".*", serve);
    server_.Delete(".*", serve);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // bind_to_any_port listens already (a connection waits in the backlog),
    // but stop() before the loop runs would not stop it: wait for it.
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~FakeHttpServer() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  struct Request {
    std::string method, target, body, authorization;  // target: the path and query
  };
  std::vector<Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  Handler handler_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Request> requests_;
};

}  // namespace bifrost::testing
