#include "core/ack.h"

#include <algorithm>

namespace bifrost::core {

// Dekker-style: the bumper adds then looks at waiting_; the follower sets
// waiting_ then looks at the count (both sequentially consistent), so one
// of them sees the other and no bump is missed. The notify is under the
// mutex, so it cannot fall between the follower's check and its sleep.
void AckProgress::bump() {
  count_.fetch_add(1);
  if (waiting_.load()) {
    std::lock_guard lock(mu_);
    cv_.notify_one();
  }
}

bool AckProgress::wait(Clock& clock, std::uint64_t seen, Clock::time_point deadline) {
  std::unique_lock lock(mu_);
  waiting_.store(true);
  clock.wait_until(lock, cv_, deadline, [&] { return count_.load() != seen || interrupted_.load(); });
  waiting_.store(false);
  return count_.load() != seen;
}

void AckProgress::interrupt() {
  std::lock_guard lock(mu_);
  interrupted_.store(true);
  cv_.notify_all();
}

std::uint64_t AckTracker::track(std::uint64_t end_position) {
  std::lock_guard lock(mu_);
  entries_.push_back(Entry{next_seq_, end_position, 0, false});
  ++unfinished_;
  return next_seq_++;
}

std::size_t AckTracker::find(std::uint64_t seq) const {
  if (seq >= next_seq_ || entries_.empty() || seq < entries_.front().first_seq) return entries_.size();
  auto it = std::upper_bound(entries_.begin(), entries_.end(), seq,
                             [](std::uint64_t s, const Entry& e) { return s < e.first_seq; });
  return static_cast<std::size_t>(it - entries_.begin()) - 1;
}

void AckTracker::complete(std::uint64_t seq) {
  std::lock_guard lock(mu_);
  std::size_t i = find(seq);
  if (i == entries_.size()) return;  // unknown or long finished: ignore, never move backwards
  Entry& e = entries_[i];
  if (e.done || e.first_seq != seq) return;  // twice, or inside a finished run
  e.done = true;
  if (e.holds == 0) settle(i);
}

bool AckTracker::hold(std::uint64_t seq) {
  std::lock_guard lock(mu_);
  std::size_t i = find(seq);
  if (i == entries_.size()) return false;
  Entry& e = entries_[i];
  if (e.finished() || e.first_seq != seq) return false;
  ++e.holds;
  return true;
}

void AckTracker::release(std::uint64_t seq) {
  std::lock_guard lock(mu_);
  std::size_t i = find(seq);
  if (i == entries_.size()) return;
  Entry& e = entries_[i];
  if (e.holds == 0 || e.first_seq != seq) return;
  if (--e.holds == 0 && e.done) settle(i);
}

void AckTracker::settle(std::size_t i) {
  --unfinished_;
  auto at = [&](std::size_t k) { return entries_.begin() + static_cast<std::ptrdiff_t>(k); };
  if (i > 0 && entries_[i - 1].finished()) {  // joins the run before it
    entries_[i - 1].end_position = entries_[i].end_position;
    entries_.erase(at(i));
    --i;
  }
  if (i + 1 < entries_.size() && entries_[i + 1].finished()) {  // and the run after it
    entries_[i].end_position = entries_[i + 1].end_position;
    entries_.erase(at(i + 1));
  }
  const std::uint64_t before = acked_;
  while (!entries_.empty() && entries_.front().finished()) {
    acked_ = entries_.front().end_position;
    entries_.pop_front();
  }
  if (progress_ && acked_ != before) progress_->bump();
}

std::uint64_t AckTracker::acknowledged() const {
  std::lock_guard lock(mu_);
  return acked_;
}

bool AckTracker::finished_through(std::uint64_t seq) const {
  std::lock_guard lock(mu_);
  if (seq >= next_seq_) return false;  // not tracked yet
  // Entries start at the first unfinished batch: everything before it is finished.
  return entries_.empty() || seq < entries_.front().first_seq;
}

std::size_t AckTracker::pending() const {
  std::lock_guard lock(mu_);
  return unfinished_;
}

std::size_t AckTracker::entries() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace bifrost::core
