// Reloads asked through the API are answered by a reload that began after
// the ask, never by an older one (app/reload_requests.h).
#include <doctest.h>

#include <atomic>
#include <thread>

#include "app/reload_requests.h"

using namespace bifrost;
using Status = api::ReloadOutcome::Status;

TEST_CASE("a reload ask is answered by the reload that begins after it, not by one already running") {
  app::ReloadRequests requests;
  // A reload is under way (its ticket taken) when the ask comes.
  const std::uint64_t running = requests.begin();
  std::atomic<bool> woken{false};
  api::ReloadOutcome got;
  std::thread asker([&] { got = requests.ask([&] { woken = true; }, std::chrono::seconds(60)); });
  while (!woken) std::this_thread::yield();
  requests.finish(running, {Status::kInvalid, "the older reload", ""});
  // The asker still waits: the reload that answers it begins now.
  const std::uint64_t next = requests.begin();
  CHECK(next > running);
  requests.finish(next, {Status::kReloaded, "reloaded: running 1 pipeline(s)", ""});
  asker.join();
  CHECK(got.status == Status::kReloaded);
  CHECK(got.message == "reloaded: running 1 pipeline(s)");
}

TEST_CASE("asks still waiting when bifrost stops are told why") {
  app::ReloadRequests requests;
  std::atomic<bool> woken{false};
  api::ReloadOutcome got;
  std::thread asker([&] { got = requests.ask([&] { woken = true; }, std::chrono::seconds(60)); });
  while (!woken) std::this_thread::yield();
  requests.close("bifrost is stopping");
  asker.join();
  CHECK(got.status == Status::kFailed);
  CHECK(got.message == "bifrost is stopping");
  // After the close, an ask does not wait at all.
  CHECK(requests.ask([] {}, std::chrono::seconds(60)).message == "bifrost is stopping");
}
