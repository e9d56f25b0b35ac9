// Acknowledgement of one source (a file, a Kafka partition, stdin).
//
// The input thread calls track() for each batch, in read order, with the
// source position just past the batch's last complete line. Any thread
// calls complete() when the batch is finished (delivered, dropped on purpose
// or parked in the failed queue). acknowledged() is the position below
// which every batch is finished: the only position an input may checkpoint.
//
// A batch may be held past its release: whoever keeps some of its events
// beyond the batch's memory (the s3 output filling an object on disk) takes
// an AckHold (Batch::hold_ack), and the batch is finished only once it is
// released AND every hold on it is done.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>

namespace bifrost::core {

class AckTracker {
 public:
  explicit AckTracker(std::uint64_t start_position = 0) : acked_(start_position) {}

  std::uint64_t track(std::uint64_t end_position);
  void complete(std::uint64_t seq);
  // One more holder of batch `seq`, who calls complete(seq) once more when
  // done. Only while the batch is not finished (its holder has not released it).
  void hold(std::uint64_t seq);

  std::uint64_t acknowledged() const;
  std::size_t pending() const;

 private:
  struct Entry {
    std::uint64_t end_position;
    std::uint32_t holders;  // the batch itself, and each hold(): finished at 0
  };
  mutable std::mutex mu_;
  std::deque<Entry> entries_;  // entries_[i] has sequence base_ + i
  std::uint64_t base_ = 0;
  std::uint64_t next_seq_ = 0;
  std::uint64_t acked_;
};

// The acknowledgement of one batch kept pending after the batch's memory
// went back to its pool. Move-only. done() finishes it; a hold destroyed
// without done() is given up: the batch is never acknowledged, so the input
// reads it again at the next start (what a crash or a shutdown deadline
// does). A default-made hold (a batch without a tracker) holds nothing.
class AckHold {
 public:
  AckHold() = default;
  AckHold(std::shared_ptr<AckTracker> tracker, std::uint64_t seq) : tracker_(std::move(tracker)), seq_(seq) {}
  AckHold(AckHold&&) noexcept = default;
  AckHold& operator=(AckHold&&) noexcept = default;
  AckHold(const AckHold&) = delete;
  AckHold& operator=(const AckHold&) = delete;

  void done() {
    if (tracker_) tracker_->complete(seq_);
    tracker_.reset();
  }
  const AckTracker* tracker() const { return tracker_.get(); }

 private:
  std::shared_ptr<AckTracker> tracker_;
  std::uint64_t seq_ = 0;
};

}  // namespace bifrost::core
