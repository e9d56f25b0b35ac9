#include <doctest.h>

#include <vector>

#include "core/log.h"

using namespace bifrost::core;
using Clock = std::chrono::steady_clock;

namespace {
// Puts the log back as it was, even when a REQUIRE ends the test early.
struct RestoreLog {
  ~RestoreLog() {
    log::set_sink(nullptr);
    log::set_clock(nullptr);
    log::set_rate_limit(std::chrono::seconds(10));
  }
};
}  // namespace

TEST_CASE("repeated warnings are written once per interval, with a count") {
  RestoreLog restore;
  std::vector<std::string> lines;
  Clock::time_point now{};
  log::set_sink([&](std::string_view l) { lines.emplace_back(l); });
  log::set_clock([&] { return now; });
  log::set_rate_limit(std::chrono::seconds(10));

  for (int i = 0; i < 5; ++i) log::warn("out", "write failed; retrying ", i * 100, " events");
  log::warn("out", "a different warning");
  log::info("out", "info is never limited");
  log::info("out", "info is never limited");
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].find("retrying 0 events") != std::string::npos);
  CHECK(lines[1].find("a different warning") != std::string::npos);

  now += std::chrono::seconds(11);
  log::flush_suppressed();
  REQUIRE(lines.size() == 5);
  CHECK(lines[4].find("retrying 400 events (repeated 4 more times in the last 10s)") != std::string::npos);

  log::warn("out", "write failed; retrying 7 events");  // inside the window the flush started: counted
  CHECK(lines.size() == 5);
  now += std::chrono::seconds(11);
  log::warn("out", "write failed; retrying 8 events");  // the next window: written, with the count
  REQUIRE(lines.size() == 6);
  CHECK(lines[5].find("retrying 8 events (repeated 1 more time in the last 10s)") != std::string::npos);
  log::flush_suppressed(true);
  CHECK(lines.size() == 6);  // nothing suppressed since

  log::set_rate_limit(std::chrono::nanoseconds(0));
  log::error("out", "same");
  log::error("out", "same");
  CHECK(lines.size() == 8);
}
