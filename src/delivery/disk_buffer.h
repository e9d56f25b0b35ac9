// An output's disk buffer: events on their way to the sink wait in durable
// segments under data_dir/buffers/<pipeline>/<output>/ instead of memory,
// so a sink that is down holds neither the inputs nor memory, and what is
// buffered survives a restart and goes out before newer events.
//
// Two sides, two threads:
//   - the pipeline's workers encode each batch's events as records
//     (buffer_record.h: binary, with a CRC-32C each), in parallel;
//   - the writer (the output's thread) appends them to the newest segment,
//     makes them durable (fdatasync) and only then lets the batch be
//     acknowledged; a failed write (disk full) is cut back off the segment,
//     logged and counted, and the batch is written again after a backoff;
//   - the reader (the sender thread) reads records back in order, in
//     batches of one source each (strings used where they lie in the read
//     chunk), hands them to the sink with the usual retries and failed
//     queue, then commits: the read position is saved (a checkpoint, at most
//     every 200 ms and at close) and fully sent segments are deleted.
// After a crash, what was sent after the last saved position is sent again
// (duplicates, never loss).
//
// A record whose checksum does not match, damaged bytes, or a torn end is
// set aside in quarantine.ndjson in the same directory (as a failed-queue
// record when it still decodes, else as the bytes), logged and counted
// (dropped reason buffer_corrupt, once per span); reading resumes at the
// next valid record. A segment without the format's magic is moved aside
// whole. None of it stops bifrost from starting or sending.
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
#include "core/stats.h"
#include "core/time.h"
#include "delivery/checkpoint_store.h"
#include "delivery/errors.h"
#include "delivery/options.h"

namespace bifrost::delivery {

class DiskBuffer {
 public:
  // The segments live in data_dir/rel (rel: "buffers/<pipeline>/<output>"),
  // private and reached without following a symlink (private_dir.h).
  DiskBuffer(std::string data_dir, std::string rel, BufferOptions options, CheckpointStore cursor,
             core::ComponentStats* stats);
  ~DiskBuffer();
  DiskBuffer(const DiskBuffer&) = delete;
  DiskBuffer& operator=(const DiskBuffer&) = delete;

  // Finds the segments and the saved read position. Errors are logged; the
  // buffer then starts from the oldest segment.
  void open();

  // Writer: appends whole records (append_buffer_record). Waits while
  // full (unless drop_newest: then kDropped). An error when they are not
  // durable: kIo (reported, counted; cut off the segment) or kGivenUp.
  enum class Put : std::uint8_t { kStored, kDropped };
  Result<Put> append(std::string_view records, const std::function<bool()>& give_up);
  // Writer: no more appends (the reader may finish once the buffer is empty).
  void close_writer();

  // Reader: reads up to `max_events` records of one source into `batch`
  // (into its chunk; batch.source and source_id set). Waits up to `wait` when the buffer is empty. Returns the
  // number read; 0 with finished() true when the writer closed and all is sent.
  std::size_t read(core::Batch& batch, std::size_t max_events, std::chrono::milliseconds wait);
  // Reader: where it is, just past what read() returned last.
  struct Position {
    std::uint64_t seq = 0, off = 0;
  };
  Position read_position() const;
  // Everything before `p` (a read_position()) is finished (sent or parked):
  // it is not read again after a restart, and sent segments are deleted.
  // May run on another thread than read().
  void commit(Position p);
  bool finished() const;
  // Saves the read position now (at stop).
  void save_cursor();

  std::uint64_t bytes() const;

 private:
  struct Segment {
    std::uint64_t seq;
    std::uint64_t size;         // durable bytes (the writer's) or the file's size
    bool written_here = false;  // made by this process's writer (not found at open)
  };
  std::string path_of(std::uint64_t seq) const;
  void quarantine(std::string_view bytes, std::uint64_t offset, const char* why);
  void write_failed(const char* what);
  void drop_consumed_locked();

  std::string root_, rel_;
  std::string dir_;
  BufferOptions options_;
  CheckpointStore cursor_store_;
  core::ComponentStats* stats_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Segment> segments_;  // oldest first; the last is the one written
  std::uint64_t total_ = 0;
  bool writer_closed_ = false;
  int write_fd_ = -1;

  // Reader state (reader thread only, except `read_seq_/read_off_` under mu_).
  std::uint64_t read_seq_ = 0, read_off_ = 0;  // committed position
  std::uint64_t next_seq_ = 0, next_off_ = 0;  // position after the last read()
  int read_fd_ = -1;
  std::uint64_t read_fd_seq_ = 0;
  std::chrono::steady_clock::time_point last_save_;
};

}  // namespace bifrost::delivery
