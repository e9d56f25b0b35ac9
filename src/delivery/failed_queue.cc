#include "delivery/failed_queue.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "core/log.h"
#include "delivery/durable_file.h"
#include "delivery/private_dir.h"

namespace bifrost::delivery {

namespace {

constexpr std::uint64_t kSegmentBytes = 16u << 20;

bool is_segment(const std::string& name) {
  return name.size() == 27 && name.ends_with(".ndjson") &&
         std::all_of(name.begin(), name.begin() + 20, [](char c) { return c >= '0' && c <= '9'; });
}

std::uint64_t count_lines(const std::string& path) {
  std::uint64_t n = 0;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[65536];
    std::size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, f)) > 0)
      n += static_cast<std::uint64_t>(std::count(buf, buf + got, '\n'));
    std::fclose(f);
  }
  return n;
}

}  // namespace

FailedQueue::FailedQueue(std::string data_dir, std::string rel, FailedQueueOptions options, core::ComponentStats* stats)
    : root_(std::move(data_dir)), rel_(std::move(rel)), dir_(root_ + "/" + rel_), options_(options), stats_(stats) {
  if (stats_) stats_->failed_queue_dir = dir_;
}

FailedQueue::~FailedQueue() = default;

std::vector<std::string> FailedQueue::segments(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (is_segment(name) && !e.is_symlink(ec)) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void FailedQueue::rescan() {
  total_ = 0;
  std::error_code ec;
  for (const std::string& s : segments(dir_)) {
    total_ += std::filesystem::file_size(s, ec);
    std::uint64_t seq = std::strtoull(std::filesystem::path(s).filename().c_str(), nullptr, 10);
    next_seq_ = std::max(next_seq_, seq + 1);
  }
}

// Opens the segment to append to, locked (flock) against `bifrost replay`,
// which rewrites segments under the same lock: after the lock is held, the
// open file must still be the one at its path.
int FailedQueue::open_segment() {
  std::string dir_error;
  const int dfd = open_private_dir(root_, rel_, /*create=*/true, dir_error);
  if (dfd < 0) {
    core::log::error(dir_, "cannot create the failed queue: ", dir_error);
    return -1;
  }
  struct DirCloser {
    int fd;
    ~DirCloser() { ::close(fd); }
  } closer{dfd};
  for (int tries = 0; tries < 100; ++tries) {
    if (current_bytes_ >= kSegmentBytes || current_seq_ == 0) {
      current_seq_ = next_seq_++;
      current_bytes_ = 0;
    }
    char name[32];
    std::snprintf(name, sizeof name, "%020" PRIu64 ".ndjson", current_seq_);
    std::string path = dir_ + "/" + name;
    int fd = ::openat(dfd, name, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, kPrivateFileMode);
    if (fd < 0) {
      core::log::error(dir_, "cannot open ", path, ": ",
                       errno == ELOOP ? "it is a symlink (not followed)" : std::strerror(errno));
      return -1;
    }
    ::flock(fd, LOCK_EX);
    struct stat mine {
    }, there{};
    if (::fstat(fd, &mine) == 0 && ::fstatat(dfd, name, &there, AT_SYMLINK_NOFOLLOW) == 0 &&
        mine.st_ino == there.st_ino) {
      current_bytes_ = static_cast<std::uint64_t>(mine.st_size);
      ::fsync(dfd);  // the name is durable too
      return fd;
    }
    ::close(fd);  // replaced or removed by replay meanwhile: open it again
  }
  core::log::error(dir_, "cannot get hold of a failed-queue segment");
  return -1;
}

void FailedQueue::drop_oldest(std::uint64_t need) {
  std::error_code ec;
  for (const std::string& s : segments(dir_)) {
    if (total_ + need <= options_.max_bytes) break;
    std::uint64_t size = std::filesystem::file_size(s, ec);
    std::uint64_t records = count_lines(s);
    if (std::filesystem::remove(s, ec)) {
      total_ -= std::min(total_, size);
      if (stats_) stats_->add_dropped("failed_queue_full", records);
      core::log::warn(dir_, "failed queue full (max_bytes ", options_.max_bytes, "): dropped the oldest segment, ",
                      records, " record(s)");
    }
  }
}

Result<void> FailedQueue::append(std::string_view records, const std::function<bool()>& give_up) {
  if (records.empty()) return {};
  rescan();  // `bifrost replay` may have freed space
  bool warned = false;
  while (total_ + records.size() > options_.max_bytes) {
    if (options_.drop_oldest) {
      drop_oldest(records.size());
      if (total_ + records.size() <= options_.max_bytes || segments(dir_).empty()) break;
      continue;
    }
    if (!warned) {
      core::log::warn(dir_, "failed queue full (max_bytes ", options_.max_bytes,
                      "): waiting for space (bifrost replay)");
      warned = true;
    }
    if (give_up()) return core::fail(Errc::kGivenUp, "the failed queue is full");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    rescan();
  }
  int fd = open_segment();
  if (fd < 0) return core::fail(Errc::kIo, "cannot open a failed-queue segment");
  const off_t before = ::lseek(fd, 0, SEEK_END);
  auto written = core::write_all(fd, records);
  bool ok = written.has_value();
  if (!ok) {
    core::log::error(dir_, "cannot write the failed queue: ", written.error().message(),
                     "; the events stay unacknowledged");
  }
  if (ok && ::fdatasync(fd) != 0) {
    core::log::error(dir_, "cannot sync the failed queue: ", std::strerror(errno), "; the events stay unacknowledged");
    ok = false;
  }
  if (!ok) {
    if (stats_) stats_->disk_write_errors.add(1);
    // Cut the partial record off (shrinking works on a full disk); if that
    // fails too, a fresh segment follows and replay sets the torn line aside.
    if (before < 0 || ::ftruncate(fd, before) != 0) current_seq_ = 0;
  }
  ::close(fd);  // also releases the lock
  if (!ok) return core::fail(Errc::kIo, "cannot write the failed queue");
  current_bytes_ += records.size();
  total_ += records.size();
  return {};
}

}  // namespace bifrost::delivery
