#include "pipeline/exactly_once.h"

#include <algorithm>

namespace bifrost::pipeline {

void ExactlyOnce::join(std::string input, Kind kind, std::string group) {
  std::lock_guard lock(mu_);
  members_.push_back(Member{std::move(input), kind, std::move(group)});
}

void ExactlyOnce::attach(const std::string& input, PositionSource* source) {
  std::lock_guard lock(mu_);
  sources_[input] = source;
}

void ExactlyOnce::detach(const std::string& input) {
  std::lock_guard lock(mu_);
  sources_.erase(input);
}

std::uint64_t ExactlyOnce::epoch() const {
  std::lock_guard lock(mu_);
  return epoch_;
}

bool ExactlyOnce::current(const core::Batch& batch) const { return batch.epoch == epoch(); }

bool ExactlyOnce::has(Kind kind) const {
  return std::any_of(members_.begin(), members_.end(), [&](const Member& m) { return m.kind == kind; });
}

std::optional<std::string> ExactlyOnce::recovered(const std::string& input, const std::function<bool()>& stopping) {
  std::unique_lock lock(mu_);
  // Polled for `stopping`: the input's stop is a flag, not a notification here.
  while (!recovered_ && !stopping()) cv_.wait_for(lock, std::chrono::milliseconds(100));
  if (!recovered_) return std::nullopt;
  auto it = recovered_states_.find(input);
  if (it == recovered_states_.end()) return std::nullopt;
  return it->second;
}

void ExactlyOnce::set_recovered(std::map<std::string, std::string> states) {
  {
    std::lock_guard lock(mu_);
    recovered_states_ = std::move(states);
    recovered_ = true;
  }
  cv_.notify_all();
}

void ExactlyOnce::set_baseline(const std::string& input, std::string state) {
  std::lock_guard lock(mu_);
  rewind_states_.try_emplace(input, std::move(state));  // a committed state, if any, stays
}

std::optional<std::string> ExactlyOnce::rewind_state(const std::string& input) const {
  std::lock_guard lock(mu_);
  auto it = rewind_states_.find(input);
  if (it == rewind_states_.end()) return std::nullopt;
  return it->second;
}

void ExactlyOnce::collect(std::vector<InputPositions>& out) {
  out.clear();
  std::lock_guard lock(mu_);  // held: an input detaches only after the call
  for (auto& [id, source] : sources_) {
    InputPositions p;
    p.input = id;
    if (source->positions(epoch_, p)) out.push_back(std::move(p));
  }
}

void ExactlyOnce::committed(const std::vector<InputPositions>& positions) {
  std::lock_guard lock(mu_);
  for (const InputPositions& p : positions) {
    if (!p.state.empty()) rewind_states_[p.input] = p.state;
  }
}

void ExactlyOnce::rewind() {
  {
    std::lock_guard lock(mu_);
    ++epoch_;
  }
  cv_.notify_all();
}

void ExactlyOnce::set_open(bool open) {
  std::lock_guard lock(mu_);
  open_ = open;
}

int ExactlyOnce::settle_requested() const {
  std::lock_guard lock(mu_);
  return settle_;
}

void ExactlyOnce::settled() {
  {
    std::lock_guard lock(mu_);
    settle_ = 0;
    ++settle_round_;
  }
  cv_.notify_all();
}

void ExactlyOnce::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    open_ = false;
  }
  cv_.notify_all();
}

void ExactlyOnce::settle(bool lost, std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  if (closed_ || !open_) {
    // Nothing in a transaction: what was published is simply read again.
    ++epoch_;
    lock.unlock();
    cv_.notify_all();
    return;
  }
  settle_ = std::max(settle_, lost ? 2 : 1);
  const std::uint64_t round = settle_round_;
  if (!cv_.wait_for(lock, wait, [&] { return settle_round_ != round || closed_; })) {
    settle_ = 2;  // too late to commit what the group may have given away: the committer aborts
  }
}

}  // namespace bifrost::pipeline
