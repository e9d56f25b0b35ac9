// Live copies of the events leaving a component, for `bifrost tap`.
//
// A TapPoint sits after each component. While nobody listens, the data path
// pays one relaxed atomic load per batch. A listener has a bounded queue:
// when it is full (a slow client) further copies are dropped and counted,
// never waited for, so a tap cannot slow the pipeline. Its work on the data
// path is bounded too: it shows at most `rate` events a second and looks at
// (evaluates `when:` on) at most kExamineFactor times that many; past those
// it samples: the rest of the second's events are skipped and counted.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/stats.h"
#include "expr/condition.h"

namespace bifrost::pipeline {

class TapListener {
 public:
  static constexpr std::uint64_t kExamineFactor = 100;

  // rate: events shown per second at most; 0 for no bound (then the whole
  // stream is copied, at its full cost).
  TapListener(std::optional<expr::Condition> when, std::uint64_t limit, std::size_t max_bytes, std::uint64_t rate = 0)
      : when_(std::move(when)), remaining_(limit), max_bytes_(max_bytes), rate_(rate) {}

  // Waits up to `wait` for the next NDJSON lines (several may come at once).
  // Returns false once the listener is finished (limit reached, or closed)
  // and everything was taken.
  bool take(std::string& out, std::chrono::milliseconds wait);
  void close();
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  friend class TapPoint;
  // Offers the events; returns how many were dropped for lack of room.
  std::uint64_t offer(const core::Batch& batch, std::span<const std::uint32_t> events);

  std::optional<expr::Condition> when_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;      // NDJSON waiting for the client
  std::uint64_t remaining_;  // events still wanted (UINT64_MAX: unlimited)
  std::size_t max_bytes_;
  std::uint64_t rate_;
  std::chrono::steady_clock::time_point window_{};
  std::uint64_t shown_in_window_ = 0;
  std::uint64_t examined_in_window_ = 0;
  bool closed_ = false;
  std::atomic<std::uint64_t> dropped_{0};
};

class TapPoint {
 public:
  ~TapPoint();
  bool active() const { return listeners_.load(std::memory_order_relaxed) > 0; }
  int listeners() const { return listeners_.load(std::memory_order_relaxed); }
  // Called on the data path (any worker thread) with the events leaving the
  // component. Returns the number of copies dropped.
  std::uint64_t publish(const core::Batch& batch, std::span<const std::uint32_t> events);
  void attach(const std::shared_ptr<TapListener>& l);
  void detach(const std::shared_ptr<TapListener>& l);

 private:
  std::atomic<int> listeners_{0};
  std::mutex mu_;
  std::vector<std::shared_ptr<TapListener>> list_;
};

// Offers the events leaving a component to its tap, counting the copies a
// slow client made the tap drop.
void tap_events(TapPoint& tap, core::ComponentStats& stats, const core::Batch& batch,
                std::span<const std::uint32_t> events);

}  // namespace bifrost::pipeline
