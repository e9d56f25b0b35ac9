#include "pipeline/tap.h"

#include <algorithm>

#include "core/json.h"

namespace bifrost::pipeline {

std::uint64_t TapListener::offer(const core::Batch& batch, std::span<const std::uint32_t> events) {
  std::lock_guard lock(mu_);
  if (closed_) return 0;
  const bool was_empty = pending_.empty();
  std::uint64_t dropped = 0;
  core::Rfc3339Cache time_cache;
  if (rate_ != 0) {
    auto now = std::chrono::steady_clock::now();
    if (now - window_ >= std::chrono::seconds(1)) {
      window_ = now;
      shown_in_window_ = examined_in_window_ = 0;
    }
  }
  for (std::size_t k = 0; k < events.size(); ++k) {
    if (remaining_ == 0) break;
    if (rate_ != 0 && (shown_in_window_ >= rate_ || examined_in_window_ >= rate_ * kExamineFactor)) {
      dropped += events.size() - k;  // sampled out for the rest of this second
      break;
    }
    ++examined_in_window_;
    const core::Event& e = batch.events[events[k]];
    if (when_ && !when_->evaluate(e)) continue;
    ++shown_in_window_;
    if (pending_.size() >= max_bytes_) {
      ++dropped;
      continue;
    }
    core::append_event_json(pending_, e, time_cache);
    pending_.push_back('\n');
    if (remaining_ != UINT64_MAX) --remaining_;
  }
  if (remaining_ == 0) closed_ = true;
  dropped_.fetch_add(dropped, std::memory_order_relaxed);
  // Wake the client's thread only when there is news for it: data where
  // there was none, or the end. (It takes everything pending at once.)
  if ((was_empty && !pending_.empty()) || closed_) cv_.notify_one();
  return dropped;
}

bool TapListener::take(std::string& out, std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, wait, [&] { return closed_ || !pending_.empty(); });
  out.swap(pending_);
  pending_.clear();
  return !(closed_ && out.empty());
}

void TapListener::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

TapPoint::~TapPoint() {
  std::lock_guard lock(mu_);
  for (auto& l : list_) l->close();
}

std::uint64_t TapPoint::publish(const core::Batch& batch, std::span<const std::uint32_t> events) {
  std::lock_guard lock(mu_);
  std::uint64_t dropped = 0;
  for (auto& l : list_) dropped += l->offer(batch, events);
  return dropped;
}

void TapPoint::attach(const std::shared_ptr<TapListener>& l) {
  std::lock_guard lock(mu_);
  list_.push_back(l);
  listeners_.store(static_cast<int>(list_.size()), std::memory_order_relaxed);
}

void TapPoint::detach(const std::shared_ptr<TapListener>& l) {
  std::lock_guard lock(mu_);
  std::erase(list_, l);
  listeners_.store(static_cast<int>(list_.size()), std::memory_order_relaxed);
}

void tap_events(TapPoint& tap, core::ComponentStats& stats, const core::Batch& batch,
                std::span<const std::uint32_t> events) {
  if (std::uint64_t dropped = tap.publish(batch, events)) core::add(stats.tap_dropped, dropped);
}

}  // namespace bifrost::pipeline
