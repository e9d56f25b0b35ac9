// Keeps a checkpoint's live copy (CheckpointStore::save_live) in step with
// the acknowledgements, so that a crash of the process re-sends only what
// was in flight, not a second of what was delivered.
//
// Its own thread (named `ckpt:<component>`) waits for the component's
// AckProgress, asks `body` for the state as it is now and writes it; what is
// acknowledged while it writes, or within `min_gap` after a write, goes into
// the next write (coalesced), so it writes at most once per min_gap however
// fast batches are finished. The component's thread keeps the durable copy
// (fsync, rename) at its own pace: reading does not wait for either.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/ack.h"
#include "core/clock.h"
#include "delivery/checkpoint_store.h"

namespace bifrost::delivery {

class CheckpointFollower {
 public:
  // Fills `out` with the checkpoint body; called on the follower's thread,
  // so it must read the component's state safely (acknowledged positions
  // are: AckTracker is thread-safe). An empty body writes nothing.
  using Body = std::function<void(std::string& out)>;
  static constexpr std::chrono::milliseconds kMinGap{1};

  // Starts the thread. `store` and `body`'s state outlive stop().
  CheckpointFollower(CheckpointStore& store, std::shared_ptr<core::AckProgress> progress, core::Clock& clock, Body body,
                     const std::string& component, core::Clock::duration min_gap = kMinGap);
  ~CheckpointFollower();
  CheckpointFollower(const CheckpointFollower&) = delete;
  CheckpointFollower& operator=(const CheckpointFollower&) = delete;

  // Writes the state once more if it moved since the last write, and ends
  // the thread: after it returns, nothing writes the live copy. Idempotent.
  void stop();
  // Live copies written so far.
  std::uint64_t writes() const { return writes_.load(); }

 private:
  void run(const std::string& component);
  void write();

  CheckpointStore& store_;
  std::shared_ptr<core::AckProgress> progress_;
  core::Clock& clock_;
  Body body_;
  core::Clock::duration min_gap_;
  core::Interruptible gap_;
  std::string scratch_;
  std::atomic<std::uint64_t> writes_{0};
  std::uint64_t seen_;  // the progress count the last write (or the start) saw; the thread's
  std::thread thread_;
};

}  // namespace bifrost::delivery
