// Acknowledgement of one source (a file, a Kafka partition, stdin).
//
// The input thread calls track() for each batch, in read order, with the
// source position just past the batch's last complete line. Any thread
// calls complete() when the batch is finished (delivered, dropped on purpose
// or parked in the failed queue). acknowledged() is the position below
// which every batch is finished: the only position an input may checkpoint.
//
// Holds: whoever still needs a batch's events after the batch goes back to
// its pool (a stateful stage's open window or unsaved state, the s3
// output's object filling on disk) calls hold(seq) before the batch is
// finished, and release(seq) once what it made of them is delivered; the
// AckHold below does both as a value. A held batch counts
// as unfinished after complete(), so the checkpoint stays below it while
// the batch's memory is already back in its pool. A hold never released
// (the stage stopped with its window open) keeps the checkpoint there: the
// next start reads the source again from that batch.
//
// Following: a tracker given an AckProgress bumps it whenever its
// acknowledged position moves, so one thread can follow every tracker of an
// input (the file input's checkpoint writer) without polling them.
//
// Memory: entries are kept only from the first unfinished batch on, and
// finished batches behind it are merged into runs (only the run's end
// position matters), so an hour-long hold costs one entry plus one run per
// unfinished batch, not one entry per batch read meanwhile.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>

#include "core/clock.h"

namespace bifrost::core {

// "Some acknowledged position moved": bumped by the trackers that share it
// (on the threads that finish batches), waited for by one follower. A bump
// costs an atomic add, plus a lock and a wake-up only while the follower is
// waiting for one: a follower that coalesces (sleeps between its writes)
// costs the acknowledging threads nothing more.
class AckProgress {
 public:
  // Any thread.
  void bump();
  std::uint64_t count() const { return count_.load(); }
  // The follower: waits until count() is no longer `seen`, `deadline` on
  // `clock` passes, or interrupt() was called. Returns whether it changed.
  bool wait(Clock& clock, std::uint64_t seen, Clock::time_point deadline);
  // Wakes the follower; every later wait() returns at once.
  void interrupt();
  bool interrupted() const { return interrupted_.load(); }

 private:
  std::atomic<std::uint64_t> count_{0};
  std::atomic<bool> waiting_{false};
  std::atomic<bool> interrupted_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

class AckTracker {
 public:
  explicit AckTracker(std::uint64_t start_position = 0, std::shared_ptr<AckProgress> progress = nullptr)
      : acked_(start_position), progress_(std::move(progress)) {}

  // The input thread: a new batch ending at `end_position`; its sequence.
  std::uint64_t track(std::uint64_t end_position);
  // The batch is finished (once; a second call or an unknown seq is ignored).
  void complete(std::uint64_t seq);
  // One more holder of batch `seq` besides its batch: it stays unfinished
  // until every hold is released. False (no hold taken) when the batch is
  // already finished or unknown: too late to hold it.
  bool hold(std::uint64_t seq);
  // Drops one hold taken by hold(seq).
  void release(std::uint64_t seq);

  std::uint64_t acknowledged() const;
  // Whether batch `seq` and every batch before it are finished (held ones
  // are not): acknowledged() is at or past its end position.
  bool finished_through(std::uint64_t seq) const;
  // Batches tracked and not finished (not completed, or held).
  std::size_t pending() const;
  // Entries kept (unfinished batches and the finished runs between them):
  // what the tracker's memory is proportional to.
  std::size_t entries() const;

 private:
  struct Entry {
    std::uint64_t first_seq;     // covers [first_seq, the next entry's first_seq)
    std::uint64_t end_position;  // of its last batch
    std::uint32_t holds;
    bool done;  // complete() was called (for a merged run: on all of them)
    bool finished() const { return done && holds == 0; }
  };
  // The entry holding `seq`, or entries_.size().
  std::size_t find(std::uint64_t seq) const;
  // Entry i just became finished: merge it with finished neighbours, and
  // move the acknowledged position over finished entries at the front.
  void settle(std::size_t i);

  mutable std::mutex mu_;
  std::deque<Entry> entries_;  // by first_seq; no two finished ones are neighbours; the front is unfinished
  std::uint64_t next_seq_ = 0;
  std::uint64_t acked_;
  std::size_t unfinished_ = 0;
  std::shared_ptr<AckProgress> progress_;  // may be null
};

// One hold (AckTracker::hold) as a value, for a holder that keeps it in a
// container or moves it between owners. Move-only. done() releases it; a
// hold destroyed (or assigned over) without done() is given up: never
// released, so the checkpoint stays below its batch and the next start
// reads it again (what a crash or a shutdown deadline does too). Empty
// when made by default, moved from, done, or taken too late.
class AckHold {
 public:
  AckHold() = default;
  // Holds batch `seq` of `tracker`; empty when there is nothing to hold
  // (no tracker, or the batch is finished already or unknown).
  static AckHold take(std::shared_ptr<AckTracker> tracker, std::uint64_t seq) {
    AckHold h;
    if (tracker && tracker->hold(seq)) {
      h.tracker_ = std::move(tracker);
      h.seq_ = seq;
    }
    return h;
  }
  AckHold(AckHold&&) noexcept = default;
  AckHold& operator=(AckHold&&) noexcept = default;
  AckHold(const AckHold&) = delete;
  AckHold& operator=(const AckHold&) = delete;
  ~AckHold() = default;  // given up when not done: see above

  explicit operator bool() const { return tracker_ != nullptr; }
  const AckTracker* tracker() const { return tracker_.get(); }
  std::uint64_t seq() const { return seq_; }
  void done() {
    if (tracker_) tracker_->release(seq_);
    tracker_.reset();
  }

 private:
  std::shared_ptr<AckTracker> tracker_;
  std::uint64_t seq_ = 0;
};

}  // namespace bifrost::core
