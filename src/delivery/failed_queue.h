// The failed queue (dead letters) of one component: durable NDJSON segments
// of records (record.h) under data_dir/failed/<pipeline>/<component>/,
// named by a growing sequence number (00000000000000000001.ndjson ...), a new
// one past 16 MiB. Records are appended with one write and an fdatasync
// before append() returns, so a parked event is acknowledged only once it
// is on disk. A segment is opened, locked (flock), written and closed for
// each append: parking is the rare path, and `bifrost replay` can then take
// any segment under the same lock while the daemon runs. Bounded by max_bytes: when full, append() waits for space
// (`bifrost replay` frees it) or, with drop_oldest, deletes the oldest
// segments and counts their records as dropped (reason failed_queue_full).
//
// The directory is private (0700, segments 0600) and reached without
// following a symlink below data_dir (private_dir.h); a symlink among the
// segments is not one.
//
// One writer: the component's own thread. `bifrost replay` works segment by
// segment, under the lock, rewriting what it could not deliver atomically.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/stats.h"
#include "delivery/errors.h"
#include "delivery/options.h"

namespace bifrost::delivery {

class FailedQueue {
 public:
  // The queue lives in data_dir/rel (rel: "failed/<pipeline>/<component>").
  FailedQueue(std::string data_dir, std::string rel, FailedQueueOptions options, core::ComponentStats* stats);
  ~FailedQueue();
  FailedQueue(const FailedQueue&) = delete;
  FailedQueue& operator=(const FailedQueue&) = delete;

  // Appends records (whole lines) durably. While full (and not
  // drop_oldest) waits, checking `give_up` every 100 ms. An error when the
  // records are not on disk: kIo (reported, counted) or kGivenUp.
  Result<void> append(std::string_view records, const std::function<bool()>& give_up);

  const std::string& dir() const { return dir_; }
  std::uint64_t bytes() const { return total_; }

  // The segment files of a queue directory, oldest first (symlinks are not
  // segments).
  static std::vector<std::string> segments(const std::string& dir);

 private:
  int open_segment();
  void rescan();
  void drop_oldest(std::uint64_t need);

  std::string root_, rel_;
  std::string dir_;
  FailedQueueOptions options_;
  core::ComponentStats* stats_;
  std::uint64_t current_seq_ = 0;  // 0: pick a new segment
  std::uint64_t current_bytes_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t next_seq_ = 1;
};

}  // namespace bifrost::delivery
