// Per-component counters, read by /metrics and the stop summary.
//
// Updated once per batch (never per event), without locks: each thread adds
// to its own cache line of a Counter (a shard picked once per thread), and a
// scrape sums the shards. Threads never contend on a counter.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bifrost::pipeline {

// A counter split into per-thread shards, summed when read.
class Counter {
 public:
  static constexpr std::size_t kShards = 8;
  void add(std::uint64_t n) { shards_[shard()].v.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t load() const {
    std::uint64_t sum = 0;
    for (const Shard& s : shards_) sum += s.v.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  // Threads get shards round-robin, once: with up to kShards threads writing
  // (inputs, workers, outputs of a pipeline), each has its own.
  static std::size_t shard() {
    static std::atomic<std::size_t> next{0};
    thread_local std::size_t mine = next.fetch_add(1, std::memory_order_relaxed) % kShards;
    return mine;
  }
  struct alignas(64) Shard {
    std::atomic<std::uint64_t> v{0};
  };
  std::array<Shard, kShards> shards_{};
};

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

// Gauges a component keeps per thing it follows (a file, a partition), for
// /metrics: the component replaces the whole set now and then (about once a
// second); a scrape copies it.
struct Series {
  const char* metric;                                       // e.g. "bifrost_file_lag_bytes"
  std::vector<std::pair<const char*, std::string>> labels;  // beyond pipeline and component
  double value;
};

class SeriesSet {
 public:
  void replace(std::vector<Series> fresh) {
    std::lock_guard lock(mu_);
    series_.swap(fresh);
  }
  std::vector<Series> snapshot() const {
    std::lock_guard lock(mu_);
    return series_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Series> series_;
};

struct ComponentStats {
  std::string pipeline;
  std::string component;
  std::string kind;  // input | filter | output
  std::string type;

  Counter events_in;
  Counter events_out;
  Counter bytes_in;
  Counter bytes_out;
  Counter events_failed;
  Counter retries;
  Counter tap_dropped;
  std::atomic<std::int64_t> queue_events{0};  // a gauge: + by workers, - by the output
  std::atomic<std::int64_t> buffer_bytes{0};  // a gauge: bytes in the output's disk buffer
  std::atomic<std::int64_t> circuit_open{0};  // a gauge: 1 while an output's sink counts as down
  Histogram request_duration;                 // outputs: one write() call
  Histogram checkpoint_duration;              // inputs: one atomic checkpoint write
  Counter checkpoint_errors;                  // checkpoints that could not be read or written
  Counter disk_write_errors;                  // disk buffer and failed queue writes that failed (disk full, I/O error)
  SeriesSet series;

  // Drop reasons are static strings; a few slots claimed lock-free.
  void add_dropped(const char* reason, std::uint64_t n);
  std::vector<std::pair<std::string, std::uint64_t>> dropped() const;
  std::uint64_t dropped_total() const;

 private:
  static constexpr std::size_t kReasonSlots = 16;
  std::array<std::atomic<const char*>, kReasonSlots> reasons_{};
  std::array<Counter, kReasonSlots> reason_counts_{};
  Counter other_reasons_;  // past the slots: counted as "other"
};

inline void add(Counter& c, std::uint64_t n) { c.add(n); }
inline void add_queue(ComponentStats& s, std::int64_t n) { s.queue_events.fetch_add(n, std::memory_order_relaxed); }

}  // namespace bifrost::pipeline
