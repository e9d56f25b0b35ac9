// The stream inputs' idle_timeout runs on the pipeline's clock
// (BuildContext::clock): with a fake one, an hour passes when the test says
// so, and nothing sleeps.
#include <doctest.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "inputs/common/net_address.h"
#include "inputs/common/socket.h"
#include "inputs/common/stream_reader.h"
#include "support/components.h"
#include "support/fake_clock.h"

using namespace bifrost;
using namespace std::chrono_literals;

namespace {

int connect_to(const std::string& local) {
  auto at = inputs::parse_listen(local);
  REQUIRE(at);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&at->addr), at->len) == 0);
  return fd;
}

// Whether the peer closed `fd` (a read returns end of file) within `limit` of real time.
bool closed_by_peer(int fd, std::chrono::milliseconds limit) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(limit.count())) != 1) return false;
  char c;
  return ::recv(fd, &c, 1, 0) == 0;
}

}  // namespace

TEST_CASE("a stream input closes a connection idle for idle_timeout on the pipeline's clock, its partial line sent") {
  testing::FakeClock clock;
  auto listener = inputs::listen_tcp(*inputs::parse_listen("127.0.0.1:0"));
  REQUIRE(listener);
  inputs::StreamOptions options;
  options.idle_timeout = 1h;
  options.clock = &clock;
  inputs::NetStats stats;
  inputs::StreamReader reader(std::make_unique<inputs::StreamServer>(std::move(*listener), options, stats, "in"), {},
                              stats, "in");
  testing::TestInputContext ctx;
  std::thread running([&] { reader.run(ctx); });

  const int fd = connect_to(reader.local());
  const std::string sent = "one\ntwo";
  REQUIRE(::send(fd, sent.data(), sent.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(sent.size()));
  REQUIRE(ctx.wait_for([&] { return ctx.messages() == std::vector<std::string>{"one"}; }));
  // An hour of the clock, at once: were the timeout on real time, the
  // connection would stay open for the hour.
  clock.advance(1h + 2s);
  CHECK(closed_by_peer(fd, 10s));
  CHECK(ctx.wait_for([&] { return ctx.messages() == std::vector<std::string>{"one", "two"}; }));
  CHECK(stats.closed.get("idle_timeout") == 1);
  ::close(fd);
  ctx.stop();
  running.join();
}
