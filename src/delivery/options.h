// The delivery keys every output accepts (`retry`, `failed_queue`), parsed by
// the config loader and used by the pipeline's output runner.
#pragma once

#include <cstdint>

namespace bifrost::delivery {

struct RetryOptions {
  std::int64_t max_attempts = 0;  // 0: retry transient failures until they succeed (backpressure)
  std::int64_t initial_backoff_ns = 100'000'000;
  std::int64_t max_backoff_ns = 30'000'000'000;
  // Circuit breaker: after this many attempts in a row that delivered
  // nothing, the sink counts as down: attempts become probes, spaced by the
  // backoff, that do not use up max_attempts. 0 turns it off.
  std::int64_t breaker_after = 5;
};

struct FailedQueueOptions {
  std::uint64_t max_bytes = 1ull << 30;
  bool drop_oldest = false;  // when full: false blocks the output, true drops the oldest segment (counted)
};

struct BufferOptions {
  bool disk = false;  // type: memory (the output's queue only) | disk
  std::uint64_t max_bytes = 1ull << 30;
  bool drop_newest = false;  // when full: false blocks the pipeline, true drops what arrives (counted)
};

struct DeliveryOptions {
  RetryOptions retry;
  FailedQueueOptions failed_queue;
  BufferOptions buffer;
};

}  // namespace bifrost::delivery
