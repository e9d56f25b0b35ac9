#include "core/clock.h"

namespace bifrost::core {

namespace {
class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, time_point deadline,
                  const std::function<bool()>& done) override {
    return cv.wait_until(lock, deadline, done);
  }
};
}  // namespace

Clock& Clock::system() {
  static SystemClock clock;
  return clock;
}

bool Interruptible::sleep_for(Clock::duration d) {
  std::unique_lock lock(mu_);
  return !clock_->wait_until(lock, cv_, clock_->now() + d, [&] { return interrupted(); });
}

void Interruptible::interrupt() {
  {
    std::lock_guard lock(mu_);
    interrupted_.store(true, std::memory_order_relaxed);
  }
  cv_.notify_all();
}

}  // namespace bifrost::core
