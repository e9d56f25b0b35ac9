// An output's disk buffer: events on their way to the sink wait in durable
// segments under data_dir/buffers/<pipeline>/<output>/ instead of memory,
// so a sink that is down holds neither the inputs nor memory, and what is
// buffered survives a restart and goes out before newer events.
//
// Two sides, two threads:
//   - the writer (the output's thread) appends the events of each batch as
//     records (a CRC-32 and a failed-queue style record per line), makes
//     them durable (fdatasync) and only then lets the batch be acknowledged;
//   - the reader (the sender thread) reads records back in order, in
//     batches, hands them to the sink with the usual retries and failed
//     queue, then commits: the read position is saved (a checkpoint, at most
//     every 200 ms and at close) and fully sent segments are deleted.
// After a crash, what was sent after the last saved position is sent again
// (duplicates, never loss).
//
// A record whose checksum does not match, or a torn last line, is moved to
// quarantine.ndjson in the same directory, logged and counted (dropped
// reason buffer_corrupt): it never stops bifrost from starting or sending.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "core/batch.h"
#include "core/time.h"
#include "delivery/checkpoint_store.h"
#include "delivery/options.h"
#include "pipeline/stats.h"

namespace bifrost::delivery {

class DiskBuffer {
 public:
  DiskBuffer(std::string dir, BufferOptions options, CheckpointStore cursor, pipeline::ComponentStats* stats);
  ~DiskBuffer();
  DiskBuffer(const DiskBuffer&) = delete;
  DiskBuffer& operator=(const DiskBuffer&) = delete;

  // Finds the segments and the saved read position. Errors are logged; the
  // buffer then starts from the oldest segment.
  void open();

  // Writer: appends whole record lines (append_buffer_record). Waits while
  // full (unless drop_newest: then returns kDropped). kFailed: not durable.
  enum class Put : std::uint8_t { kStored, kDropped, kFailed };
  Put append(std::string_view lines, const std::function<bool()>& give_up);
  // Writer: no more appends (the reader may finish once the buffer is empty).
  void close_writer();

  // Reader: reads up to `max_events` records into `batch` (events decoded in
  // its arena). Waits up to `wait` when the buffer is empty. Returns the
  // number read; 0 with finished() true when the writer closed and all is sent.
  std::size_t read(core::Batch& batch, std::size_t max_events, std::chrono::milliseconds wait);
  // Reader: what read() returned last is finished (sent or parked).
  void commit();
  bool finished() const;
  // Saves the read position now (at stop).
  void save_cursor();

  std::uint64_t bytes() const;

 private:
  struct Segment {
    std::uint64_t seq;
    std::uint64_t size;  // durable bytes (the writer's) or the file's size
  };
  std::string path_of(std::uint64_t seq) const;
  void quarantine(std::string_view line, const char* why);
  void drop_consumed_locked();

  std::string dir_;
  BufferOptions options_;
  CheckpointStore cursor_store_;
  pipeline::ComponentStats* stats_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Segment> segments_;  // oldest first; the last is the one written
  std::uint64_t total_ = 0;
  bool writer_closed_ = false;
  int write_fd_ = -1;

  // Reader state (reader thread only, except `read_seq_/read_off_` under mu_).
  std::uint64_t read_seq_ = 0, read_off_ = 0;      // committed position
  std::uint64_t next_seq_ = 0, next_off_ = 0;      // position after the last read()
  int read_fd_ = -1;
  std::uint64_t read_fd_seq_ = 0;
  std::string chunk_;
  std::chrono::steady_clock::time_point last_save_;
};

// Appends one buffer line: "<crc32 hex> {"ts":...,"event":{...}}\n" (the CRC
// covers the record, not its \n).
void append_buffer_record(std::string& out, const core::Event& e, core::Rfc3339Cache& cache);

}  // namespace bifrost::delivery
