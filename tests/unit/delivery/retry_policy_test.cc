#include <doctest.h>

#include <thread>

#include "delivery/retry_policy.h"
#include "support/fake_clock.h"

using namespace bifrost;
using namespace std::chrono_literals;
using delivery::RetryOptions;
using delivery::RetryPolicy;

namespace {
RetryOptions options(std::int64_t max_attempts, std::int64_t breaker_after) {
  return RetryOptions{.max_attempts = max_attempts,
                      .initial_backoff_ns = 100'000'000,
                      .max_backoff_ns = 2'000'000'000,
                      .breaker_after = breaker_after};
}
}  // namespace

TEST_CASE("the backoff doubles from the initial wait up to the maximum, and jitter stays under it") {
  RetryPolicy exact(options(0, 0), /*jitter=*/false);
  RetryPolicy::Tries t;
  std::vector<std::chrono::nanoseconds> waits;
  for (int i = 0; i < 7; ++i) {
    exact.after_attempt(t, false, true);
    waits.push_back(exact.backoff(t));
  }
  CHECK(waits == std::vector<std::chrono::nanoseconds>{100ms, 200ms, 400ms, 800ms, 1600ms, 2s, 2s});

  RetryPolicy jittered(options(0, 0), /*jitter=*/true, /*seed=*/7);
  RetryPolicy::Tries j;
  bool below_cap = false;
  for (int i = 0; i < 200; ++i) {
    jittered.after_attempt(j, false, true);
    auto w = jittered.backoff(j);
    const auto cap = std::min<std::chrono::nanoseconds>(2s, 100ms * (1ll << std::min(i, 30)));
    CHECK(w >= 0ns);
    CHECK(w <= cap);
    below_cap = below_cap || w < cap;
  }
  CHECK(below_cap);  // full jitter: not always the bound
}

TEST_CASE("max_attempts gives up on a batch after that many attempts") {
  RetryPolicy p(options(3, 0), false);
  RetryPolicy::Tries t;
  p.after_attempt(t, false, true);
  CHECK_FALSE(p.exhausted(t));
  p.after_attempt(t, false, true);
  CHECK_FALSE(p.exhausted(t));
  p.after_attempt(t, false, true);
  CHECK(p.exhausted(t));
  RetryPolicy unbounded(options(0, 0), false);
  RetryPolicy::Tries u;
  for (int i = 0; i < 1000; ++i) unbounded.after_attempt(u, false, true);
  CHECK_FALSE(unbounded.exhausted(u));
}

TEST_CASE("the circuit opens after breaker_after failures in a row, probes without using up attempts, and closes") {
  RetryPolicy p(options(3, 2), false);
  RetryPolicy::Tries t;
  CHECK(p.after_attempt(t, false, true) == RetryPolicy::Circuit::kSame);
  CHECK_FALSE(p.open());
  CHECK(p.after_attempt(t, false, true) == RetryPolicy::Circuit::kOpened);
  CHECK(p.open());
  // While open, attempts are probes: they do not count toward max_attempts.
  for (int i = 0; i < 10; ++i) CHECK(p.after_attempt(t, false, true) == RetryPolicy::Circuit::kSame);
  CHECK(t.counted == 2);
  CHECK_FALSE(p.exhausted(t));
  // Spaced by the failures in a row: at the maximum by now.
  CHECK(p.backoff(t) == 2s);
  // The failures in a row span batches: a new batch starts with the circuit open.
  RetryPolicy::Tries next;
  CHECK(p.after_attempt(next, false, true) == RetryPolicy::Circuit::kSame);
  CHECK(p.open());
  CHECK(p.after_attempt(next, true, false) == RetryPolicy::Circuit::kClosed);
  CHECK_FALSE(p.open());
  CHECK(p.failures_in_a_row() == 0);
}

TEST_CASE("an attempt that rejects everything neither opens nor closes the circuit") {
  RetryPolicy p(options(0, 1), false);
  RetryPolicy::Tries t;
  CHECK(p.after_attempt(t, false, false) == RetryPolicy::Circuit::kSame);
  CHECK_FALSE(p.open());
  CHECK(p.after_attempt(t, false, true) == RetryPolicy::Circuit::kOpened);
  CHECK(p.after_attempt(t, false, false) == RetryPolicy::Circuit::kSame);
  CHECK(p.open());
}

TEST_CASE("a disk write is tried again with a doubling wait until it succeeds, on the injected clock") {
  testing::FakeClock clock(/*auto_advance=*/true);
  core::Interruptible pause(clock);
  int calls = 0;
  CHECK(delivery::retry_disk_write(pause, [&] { return ++calls == 9; }));
  CHECK(calls == 9);
  CHECK(clock.waits() == std::vector<core::Clock::duration>{100ms, 200ms, 400ms, 800ms, 1600ms, 3200ms, 5s, 5s});
}

TEST_CASE("a disk write that never succeeds stops when the pause is interrupted, and so does its wait") {
  testing::FakeClock clock;  // time does not move: only the interrupt ends the wait
  core::Interruptible pause(clock);
  std::atomic<int> calls{0};
  std::thread t([&] { CHECK_FALSE(delivery::retry_disk_write(pause, [&] { return ++calls, false; })); });
  while (calls.load() == 0) std::this_thread::yield();
  pause.interrupt();
  t.join();
  CHECK(calls.load() == 1);
  CHECK_FALSE(delivery::retry_disk_write(pause, [] { return false; }));  // interrupted: no wait at all
}
