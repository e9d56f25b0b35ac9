// A clock the test moves (core/clock.h): what waits on it wakes when the
// test advances time past its deadline, or, with auto_advance, at once with
// the time moved to its deadline (each wait recorded). Retry, breaker and
// flush-interval tests run on it without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

#include "core/clock.h"

namespace bifrost::testing {

class FakeClock final : public core::Clock {
 public:
  explicit FakeClock(bool auto_advance = false) : auto_advance_(auto_advance) {}

  time_point now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }

  void advance(duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }

  // The waits that ended by reaching their deadline, as durations from when
  // they began (auto_advance only).
  std::vector<duration> waits() const {
    std::lock_guard lock(mu_);
    return waits_;
  }

  // Threads waiting on this clock now (manual mode): a test advances time
  // once the thread it means to wake is waiting, since a wait of a duration
  // is measured from when it begins.
  int waiters() const { return waiters_.load(); }

  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, time_point deadline,
                  const std::function<bool()>& done) override {
    struct Count {
      std::atomic<int>& n;
      explicit Count(std::atomic<int>& c) : n(c) { ++n; }
      ~Count() { --n; }
    } counting(waiters_);
    while (!done()) {
      if (auto_advance_) {
        std::lock_guard g(mu_);
        if (deadline > now_) {
          waits_.push_back(deadline - now_);
          now_ = deadline;
        }
        return done();
      }
      if (now() >= deadline) return false;
      // Real time passes only to notice advance() (or `done`): 1 ms steps.
      cv.wait_for(lock, std::chrono::milliseconds(1));
    }
    return true;
  }

 private:
  const bool auto_advance_;
  std::atomic<int> waiters_{0};
  mutable std::mutex mu_;
  time_point now_{std::chrono::hours(1)};
  std::vector<duration> waits_;
};

}  // namespace bifrost::testing
