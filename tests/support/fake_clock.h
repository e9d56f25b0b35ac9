// A clock the test moves (core/clock.h): what waits on it wakes when the
// test advances time past its deadline, or, with auto_advance, at once with
// the time moved to its deadline (each wait recorded). Retry, breaker and
// flush-interval tests run on it without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
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

  // The deadlines those threads wait for, earliest first (manual mode): a
  // test sees when something is due without letting time pass.
  std::vector<time_point> deadlines() const {
    std::lock_guard lock(mu_);
    std::vector<time_point> out(deadlines_.begin(), deadlines_.end());
    return out;
  }

  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, time_point deadline,
                  const std::function<bool()>& done) override {
    struct Count {
      FakeClock& c;
      std::multiset<time_point>::iterator at;
      Count(FakeClock& clock, time_point deadline) : c(clock) {
        std::lock_guard g(c.mu_);
        at = c.deadlines_.insert(deadline);
        ++c.waiters_;
      }
      ~Count() {
        std::lock_guard g(c.mu_);
        c.deadlines_.erase(at);
        --c.waiters_;
      }
    } counting(*this, deadline);
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
  std::multiset<time_point> deadlines_;
};

}  // namespace bifrost::testing
