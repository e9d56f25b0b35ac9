// Time as the runtime sees it: a Clock says what time it is and waits, so
// that tests can replace it (tests/support/fake_clock.h) and the retry,
// circuit-breaker and flush-interval tests run without sleeping.
//
// The system clock is std::chrono::steady_clock. Everything that waits for a
// duration on the data path (backoffs, flush intervals) goes through a Clock.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace bifrost::core {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;
  virtual ~Clock() = default;

  virtual time_point now() const = 0;
  // Waits on `cv` (the caller holds `lock` on the mutex `cv` is used with)
  // until `done()` is true or the clock reaches `deadline`. Returns done().
  // Whoever makes done() true notifies `cv`.
  virtual bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, time_point deadline,
                          const std::function<bool()>& done) = 0;

  // steady_clock; shared by every thread.
  static Clock& system();
};

// A pause that another thread can cut short: the pipeline giving up on
// delivery wakes every output sleeping in a backoff. Any thread may sleep;
// interrupt() wakes them all, and every later sleep returns at once.
class Interruptible {
 public:
  explicit Interruptible(Clock& clock = Clock::system()) : clock_(&clock) {}

  // Sleeps for `d` (on the clock). False when interrupted (before or during).
  bool sleep_for(Clock::duration d);
  void interrupt();
  bool interrupted() const { return interrupted_.load(std::memory_order_relaxed); }
  Clock& clock() const { return *clock_; }

 private:
  Clock* clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> interrupted_{false};
};

}  // namespace bifrost::core
