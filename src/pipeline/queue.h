// A bounded blocking FIFO. push() blocks while full (backpressure); pop()
// blocks while empty; close() wakes everyone: pushes fail, pops drain what
// is left and then return nothing.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

#include "core/clock.h"

namespace bifrost::pipeline {

template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}
  std::size_t capacity() const { return capacity_; }

  bool push(T item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    if (on_fill_ && items_.size() == fill_at_) on_fill_(true);
    not_empty_.notify_one();
    return true;
  }

  // Pops the next item and numbers it: the n-th item popped gets sequence n.
  std::optional<T> pop(std::uint64_t* sequence = nullptr) {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    return take(sequence);
  }

  // Pops the next item, waiting until `deadline` on `clock` at most.
  std::optional<T> pop_until(core::Clock& clock, core::Clock::time_point deadline) {
    std::unique_lock lock(mu_);
    clock.wait_until(lock, not_empty_, deadline, [&] { return closed_ || !items_.empty(); });
    return take(nullptr);
  }

  // Calls f(true) when a push brings the queue to `at` items, f(false) when
  // a pop takes it below: under the queue's lock, so f must be quick.
  void watch_fill(std::size_t at, std::function<void(bool)> f) {
    std::lock_guard lock(mu_);
    fill_at_ = at;
    on_fill_ = std::move(f);
  }

  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  bool closed_and_empty() const {
    std::lock_guard lock(mu_);
    return closed_ && items_.empty();
  }

  std::size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }

 private:
  std::optional<T> take(std::uint64_t* sequence) {
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    if (on_fill_ && items_.size() + 1 == fill_at_) on_fill_(false);
    if (sequence) *sequence = popped_;
    ++popped_;
    not_full_.notify_one();
    return item;
  }

  mutable std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<T> items_;
  std::size_t capacity_;
  std::uint64_t popped_ = 0;
  std::size_t fill_at_ = 0;
  std::function<void(bool)> on_fill_;
  bool closed_ = false;
};

}  // namespace bifrost::pipeline
