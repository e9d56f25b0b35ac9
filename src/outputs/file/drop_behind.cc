#include "outputs/file/drop_behind.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

namespace bifrost::outputs::file {

SharedFd::~SharedFd() {
  if (fd_ >= 0) ::close(fd_);
}

DropBehind::DropBehind(std::string thread_name) {
  thread_ = std::thread([this, name = std::move(thread_name)] {
    ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
    run();
  });
}

DropBehind::~DropBehind() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void DropBehind::written(const std::shared_ptr<SharedFd>& fd, Cursor& cursor, off_t end) {
  if (end < cursor.written_back) cursor.written_back = cursor.dropped = end;  // truncated by someone else
  if (end - cursor.written_back < kWindow) return;
  Job job{fd, cursor.written_back, end, cursor.dropped, cursor.written_back};
  cursor.dropped = cursor.written_back;
  cursor.written_back = end;
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return jobs_.size() < kMaxPending; });
  jobs_.push_back(std::move(job));
  lock.unlock();
  changed_.notify_all();
}

void DropBehind::run() {
  for (;;) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, and all done
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    changed_.notify_all();
    // Advice only: an error here (an I/O error shows again at fdatasync)
    // changes nothing about what was written.
    const int fd = job.fd->get();
    ::sync_file_range(fd, job.start_from, job.start_to - job.start_from, SYNC_FILE_RANGE_WRITE);
    if (job.drop_to > job.drop_from) {
      ::sync_file_range(fd, job.drop_from, job.drop_to - job.drop_from,
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
      ::posix_fadvise(fd, job.drop_from, job.drop_to - job.drop_from, POSIX_FADV_DONTNEED);
    }
  }
}

}  // namespace bifrost::outputs::file
