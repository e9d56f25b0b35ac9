// Per-component counters, read by /metrics and the stop summary.
//
// Updated once per batch (never per event) with relaxed atomic adds: no
// lock on the data path. A per-thread copy summed at scrape would save one
// atomic add per batch per counter, which is noise next to the batch's
// thousand events; the atomics keep scrape code trivial.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bifrost::pipeline {

// Cumulative histogram with fixed bounds (seconds), one writer or many.
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1,    2.5};
  void observe(double seconds);
  std::uint64_t bucket(std::size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }  // not cumulative
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9; }

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};  // last: above every bound
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_ns_{0};
};

struct ComponentStats {
  std::string pipeline;
  std::string component;
  std::string kind;  // input | filter | output
  std::string type;

  std::atomic<std::uint64_t> events_in{0};
  std::atomic<std::uint64_t> events_out{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::atomic<std::uint64_t> events_failed{0};
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::int64_t> queue_events{0};
  std::atomic<std::uint64_t> tap_dropped{0};
  Histogram request_duration;  // outputs: one write() call

  // Drop reasons are static strings; a few slots claimed lock-free.
  void add_dropped(const char* reason, std::uint64_t n);
  std::vector<std::pair<std::string, std::uint64_t>> dropped() const;
  std::uint64_t dropped_total() const;

 private:
  static constexpr std::size_t kReasonSlots = 16;
  std::array<std::atomic<const char*>, kReasonSlots> reasons_{};
  std::array<std::atomic<std::uint64_t>, kReasonSlots> reason_counts_{};
  std::atomic<std::uint64_t> other_reasons_{0};  // past the slots: counted as "other"
};

inline void add(std::atomic<std::uint64_t>& c, std::uint64_t n) { c.fetch_add(n, std::memory_order_relaxed); }
inline void add_queue(ComponentStats& s, std::int64_t n) { s.queue_events.fetch_add(n, std::memory_order_relaxed); }

}  // namespace bifrost::pipeline
