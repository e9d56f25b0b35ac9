#include "core/ack.h"

namespace bifrost::core {

std::uint64_t AckTracker::track(std::uint64_t end_position) {
  std::lock_guard lock(mu_);
  entries_.push_back(Entry{end_position, 1});
  return next_seq_++;
}

void AckTracker::complete(std::uint64_t seq) {
  std::lock_guard lock(mu_);
  if (seq < base_ || seq - base_ >= entries_.size()) return;  // unknown: ignore, never move backwards
  Entry& e = entries_[seq - base_];
  if (e.holders == 0) return;  // finished already: never move backwards
  --e.holders;
  while (!entries_.empty() && entries_.front().holders == 0) {
    acked_ = entries_.front().end_position;
    entries_.pop_front();
    ++base_;
  }
}

void AckTracker::hold(std::uint64_t seq) {
  std::lock_guard lock(mu_);
  if (seq < base_ || seq - base_ >= entries_.size()) return;
  Entry& e = entries_[seq - base_];
  if (e.holders > 0) ++e.holders;
}

std::uint64_t AckTracker::acknowledged() const {
  std::lock_guard lock(mu_);
  return acked_;
}

std::size_t AckTracker::pending() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace bifrost::core
