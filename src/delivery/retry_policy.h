// When to try again: exponential backoff with full jitter, a cap on the
// attempts at one batch, and the circuit breaker. One RetryPolicy per output
// (the breaker's count of failures in a row spans batches), used by that
// output's thread only.
//
// The same doubling without jitter paces the writes to disk that must not
// give up (the failed queue, the disk buffer): retry_disk_write().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>

#include "core/clock.h"
#include "delivery/options.h"

namespace bifrost::delivery {

class RetryPolicy {
 public:
  // `jitter` false: the wait is the cap itself (100 ms, 200 ms, ...).
  explicit RetryPolicy(RetryOptions options, bool jitter = true, std::uint64_t seed = std::random_device{}());

  // The attempts at one batch.
  struct Tries {
    int attempt = 0;  // attempts made
    int counted = 0;  // the ones that count toward max_attempts (not probes of a sink that is down)
  };

  enum class Circuit : std::uint8_t { kSame, kOpened, kClosed };
  // After each attempt at a batch: `progress` when it delivered something
  // or settled every event (delivered or rejected), `retry` when some events
  // are to be tried again. Says whether the circuit opened or closed.
  Circuit after_attempt(Tries& tries, bool progress, bool retry);
  // No more attempts at this batch: max_attempts used up (never while the
  // circuit is open: then attempts are probes).
  bool exhausted(const Tries& tries) const;
  // How long to wait before the next attempt: uniform in [0, min(max_backoff,
  // initial_backoff * 2^(n-1))], n the batch's attempts, or the failures in a
  // row while the circuit is open (without jitter: the bound itself).
  std::chrono::nanoseconds backoff(const Tries& tries);

  bool open() const { return options_.breaker_after > 0 && failures_in_a_row_ >= options_.breaker_after; }
  std::int64_t failures_in_a_row() const { return failures_in_a_row_; }
  const RetryOptions& options() const { return options_; }

 private:
  RetryOptions options_;
  bool jitter_;
  std::minstd_rand rng_;
  std::int64_t failures_in_a_row_ = 0;  // attempts in a row that delivered nothing
};

// The pacing of writes to disk that must succeed before a batch may be
// acknowledged: 100 ms, doubling up to 5 s, no cap on attempts.
RetryOptions disk_write_retries();

// Calls `write` until it returns true, sleeping disk_write_retries()'s
// backoff on `pause` between calls. False when `pause` is interrupted first
// (delivery given up: the caller abandons the batch). `write` may check
// pause.interrupted() to stop waiting inside.
bool retry_disk_write(core::Interruptible& pause, const std::function<bool()>& write);

}  // namespace bifrost::delivery
