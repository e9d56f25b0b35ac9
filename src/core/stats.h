// Per-component counters, read by /metrics and the stop summary.
//
// Updated once per batch (never per event), without locks: each thread adds
// to its own cache line of a Counter (a shard picked once per thread), and a
// scrape sums the shards. Threads never contend on a counter.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bifrost::core {

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

// A metric family a component type declares when it registers
// (src/components.cc): /metrics shows it, with HELP and TYPE, whether or not
// a component of the type runs, and takes its samples from the components'
// SeriesSets. Its series carry `pipeline` and `component` labels, then
// `labels` in this order. A histogram family's series point at a Histogram
// the component keeps for as long as it runs (its buckets are kBounds).
enum class MetricType : std::uint8_t { kCounter, kGauge, kHistogram };
struct MetricFamily {
  const char* name;  // bifrost_...
  MetricType type;
  const char* help;
  std::vector<const char*> labels;
};

// One sample of a declared family, label values in the family's order.
struct Series {
  const MetricFamily* family;
  std::vector<std::string> labels;
  double value;
  const Histogram* histogram = nullptr;  // a kHistogram family's samples (value unused)
};

// Samples a component keeps per thing it follows (a file, a partition, a
// broker): the component replaces a whole group now and then (about once a
// second); a scrape copies them. Groups are replaced apart: the Kafka
// input's lag and its client's statistics come from different callbacks.
class SeriesSet {
 public:
  void replace(std::vector<Series> fresh, std::size_t group = 0) {
    std::lock_guard lock(mu_);
    if (groups_.size() <= group) groups_.resize(group + 1);
    groups_[group].swap(fresh);
  }
  std::vector<Series> snapshot() const {
    std::lock_guard lock(mu_);
    std::vector<Series> out;
    for (const auto& g : groups_) out.insert(out.end(), g.begin(), g.end());
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::vector<Series>> groups_;
};

// Time spent in a state (an input waiting for a free batch, an output's
// queue full), the ongoing spell included, read by a scrape on another
// thread. start() and stop() are called on transitions only, never per
// event; one thread at a time is in the state.
class Stopwatch {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  void start(time_point now) {
    std::lock_guard lock(mu_);
    if (!running_) since_ = now, running_ = true;
  }
  void stop(time_point now) {
    std::lock_guard lock(mu_);
    if (running_) total_ += now - since_, running_ = false;
  }
  bool running() const {
    std::lock_guard lock(mu_);
    return running_;
  }
  double seconds(time_point now) const {
    std::lock_guard lock(mu_);
    auto t = total_ + (running_ && now > since_ ? now - since_ : std::chrono::steady_clock::duration::zero());
    return std::chrono::duration<double>(t).count();
  }

 private:
  mutable std::mutex mu_;
  bool running_ = false;
  time_point since_{};
  std::chrono::steady_clock::duration total_{};
};

struct ComponentStats {
  std::string pipeline;
  std::string component;
  std::string kind;  // input | filter | output
  std::string type;
  void identify(std::string pipeline_id, std::string component_id, std::string kind_name, std::string type_name) {
    pipeline = std::move(pipeline_id);
    component = std::move(component_id);
    kind = std::move(kind_name);
    type = std::move(type_name);
  }

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
  Counter disk_write_errors;                  // disk buffer, failed queue, s3 staging and journal writes that failed
  Stopwatch blocked;  // inputs: waiting for a free batch; outputs: the queue holding every batch it can
  SeriesSet series;
  // Where the component's failed queue is (set once, before it runs), for
  // bifrost_failed_queue_bytes: read at scrape time, so that what `bifrost
  // replay` removes shows at once.
  std::string failed_queue_dir;

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

}  // namespace bifrost::core
