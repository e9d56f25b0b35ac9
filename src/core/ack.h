// Acknowledgement of one source (a file, a Kafka partition, stdin).
//
// The input thread calls track() for each batch, in read order, with the
// source position just past the batch's last complete line. Any thread
// calls complete() when the batch is finished (delivered, dropped on purpose
// or parked in the failed queue). acknowledged() is the position below
// which every batch is finished: the only position an input may checkpoint.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>

namespace bifrost::core {

class AckTracker {
 public:
  explicit AckTracker(std::uint64_t start_position = 0) : acked_(start_position) {}

  std::uint64_t track(std::uint64_t end_position);
  void complete(std::uint64_t seq);

  std::uint64_t acknowledged() const;
  std::size_t pending() const;

 private:
  struct Entry {
    std::uint64_t end_position;
    bool done;
  };
  mutable std::mutex mu_;
  std::deque<Entry> entries_;  // entries_[i] has sequence base_ + i
  std::uint64_t base_ = 0;
  std::uint64_t next_seq_ = 0;
  std::uint64_t acked_;
};

}  // namespace bifrost::core
