// A fast HTTP sink for the benchmarks: accepts every POST/PUT, counts the
// events (lines) and bytes, and tells them on GET /count as "EVENTS BYTES".
//   bifrost-bench-sink PORT
#include <httplib.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: bifrost-bench-sink PORT\n");
    return 2;
  }
  std::atomic<unsigned long long> events{0}, bytes{0};
  httplib::Server server;
  server.set_tcp_nodelay(true);
  auto take = [&](const httplib::Request& req, httplib::Response& res) {
    unsigned long long n = 0;
    for (char c : req.body) n += c == '\n';
    events += n;
    bytes += req.body.size();
    res.set_content("{}", "application/json");
  };
  server.Post(".*", take);
  server.Put(".*", take);
  server.Get("/count", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::to_string(events.load()) + " " + std::to_string(bytes.load()) + "\n", "text/plain");
  });
  if (!server.bind_to_port("127.0.0.1", std::atoi(argv[1]))) {
    std::fprintf(stderr, "bifrost-bench-sink: cannot listen on port %s\n", argv[1]);
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  server.listen_after_bind();
}
