// Drop-behind for files bifrost writes: once a window of bytes is written,
// writeback of it starts, and the window before it (written back by then,
// or waited for) leaves the page cache. The writes then reuse the same
// pages instead of taking new ones (and pushing out what the host caches);
// a new page costs more than the copy into it, most of all in a VM.
//
// The writeback and the dropping run on a thread of their own, so the
// thread writing only copies into the page cache. At most kMaxPending
// windows wait for it: beyond that the writer waits, so the output goes at
// the disk's speed (a sustained stream is bounded by it anyway).
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace bifrost::outputs::file {

// A file descriptor closed by whoever lets go of it last: the writer or
// the drop-behind thread.
class SharedFd {
 public:
  explicit SharedFd(int fd) : fd_(fd) {}
  ~SharedFd();
  SharedFd(const SharedFd&) = delete;
  SharedFd& operator=(const SharedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

class DropBehind {
 public:
  static constexpr off_t kWindow = 32 << 20;
  static constexpr std::size_t kMaxPending = 4;

  explicit DropBehind(std::string thread_name);
  ~DropBehind();  // finishes what is queued
  DropBehind(const DropBehind&) = delete;
  DropBehind& operator=(const DropBehind&) = delete;

  // Where a file stands: kept by the writer, one per open file.
  struct Cursor {
    off_t written_back = 0;  // writeback requested for what is before this
    off_t dropped = 0;       // dropped (or to be) from the page cache: before this
  };

  // Called after a write that ended at `end`: queues the work when a whole
  // window was written since the last time.
  void written(const std::shared_ptr<SharedFd>& fd, Cursor& cursor, off_t end);

 private:
  struct Job {
    std::shared_ptr<SharedFd> fd;
    off_t start_from, start_to;  // writeback to start
    off_t drop_from, drop_to;    // to wait for and drop (empty: nothing)
  };
  void run();

  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace bifrost::outputs::file
