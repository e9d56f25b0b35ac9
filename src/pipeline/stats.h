// Per-component counters. Updated once per batch (not per event) with
// relaxed atomics, read by the metrics endpoint and the shutdown summary.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace bifrost::pipeline {

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

  void add_dropped(std::string_view reason, std::uint64_t n);
  std::vector<std::pair<std::string, std::uint64_t>> dropped() const;
  std::uint64_t dropped_total() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, std::uint64_t>> dropped_;
};

inline void add(std::atomic<std::uint64_t>& c, std::uint64_t n) { c.fetch_add(n, std::memory_order_relaxed); }
inline void add_queue(ComponentStats& s, std::int64_t n) { s.queue_events.fetch_add(n, std::memory_order_relaxed); }

}  // namespace bifrost::pipeline
