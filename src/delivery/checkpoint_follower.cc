#include "delivery/checkpoint_follower.h"

#include <pthread.h>

namespace bifrost::delivery {

CheckpointFollower::CheckpointFollower(CheckpointStore& store, std::shared_ptr<core::AckProgress> progress,
                                       core::Clock& clock, Body body, const std::string& component,
                                       core::Clock::duration min_gap)
    : store_(store),
      progress_(std::move(progress)),
      clock_(clock),
      body_(std::move(body)),
      min_gap_(min_gap),
      gap_(clock),
      seen_(progress_->count()),  // here, not on the thread: a bump before it starts is not missed
      thread_([this, name = "ckpt:" + component] { run(name); }) {}

CheckpointFollower::~CheckpointFollower() { stop(); }

void CheckpointFollower::stop() {
  if (!thread_.joinable()) return;
  progress_->interrupt();
  gap_.interrupt();
  thread_.join();
}

void CheckpointFollower::write() {
  scratch_.clear();
  body_(scratch_);
  if (scratch_.empty()) return;      // nothing to say yet
  (void)store_.save_live(scratch_);  // a failure is logged by the store; the durable copy stays
  writes_.fetch_add(1);
}

void CheckpointFollower::run(const std::string& name) {
  ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
  while (!progress_->interrupted()) {
    if (!progress_->wait(clock_, seen_, clock_.now() + std::chrono::hours(1))) continue;
    seen_ = progress_->count();  // before reading the state: a bump after this is written next time
    write();
    if (!gap_.sleep_for(min_gap_)) break;
  }
  if (progress_->count() != seen_) write();
}

}  // namespace bifrost::delivery
