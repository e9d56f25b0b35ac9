#include "delivery/retry_policy.h"

#include <algorithm>

namespace bifrost::delivery {

RetryPolicy::RetryPolicy(RetryOptions options, bool jitter, std::uint64_t seed)
    : options_(options), jitter_(jitter), rng_(static_cast<std::minstd_rand::result_type>(seed)) {}

RetryPolicy::Circuit RetryPolicy::after_attempt(Tries& tries, bool progress, bool retry) {
  ++tries.attempt;
  const bool was_open = open();
  if (!was_open) ++tries.counted;
  if (progress) {
    failures_in_a_row_ = 0;
    return was_open ? Circuit::kClosed : Circuit::kSame;
  }
  if (retry && ++failures_in_a_row_ == options_.breaker_after) return Circuit::kOpened;
  return Circuit::kSame;
}

bool RetryPolicy::exhausted(const Tries& tries) const {
  return options_.max_attempts > 0 && tries.counted >= options_.max_attempts && !open();
}

std::chrono::nanoseconds RetryPolicy::backoff(const Tries& tries) {
  const std::int64_t n = open() ? std::max<std::int64_t>(tries.attempt, failures_in_a_row_) : tries.attempt;
  const std::int64_t cap = std::min<std::int64_t>(
      options_.max_backoff_ns, options_.initial_backoff_ns << std::clamp<std::int64_t>(n - 1, 0, 30));
  if (!jitter_) return std::chrono::nanoseconds(cap);
  return std::chrono::nanoseconds(std::uniform_int_distribution<std::int64_t>(0, cap)(rng_));
}

RetryOptions disk_write_retries() {
  return RetryOptions{
      .max_attempts = 0, .initial_backoff_ns = 100'000'000, .max_backoff_ns = 5'000'000'000, .breaker_after = 0};
}

bool retry_disk_write(core::Interruptible& pause, const std::function<bool()>& write) {
  RetryPolicy policy(disk_write_retries(), /*jitter=*/false);
  RetryPolicy::Tries tries;
  while (!write()) {
    if (pause.interrupted()) return false;
    policy.after_attempt(tries, /*progress=*/false, /*retry=*/true);
    if (!pause.sleep_for(policy.backoff(tries))) return false;
  }
  return true;
}

}  // namespace bifrost::delivery
