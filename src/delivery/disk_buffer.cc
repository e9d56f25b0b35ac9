#include "delivery/disk_buffer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "core/log.h"
#include "delivery/durable_file.h"
#include "delivery/record.h"

namespace bifrost::delivery {

namespace {

constexpr std::uint64_t kSegmentBytes = 16u << 20;
constexpr std::size_t kReadChunk = 1u << 20;
constexpr auto kSaveEvery = std::chrono::milliseconds(200);

std::uint32_t crc_of(std::string_view s) {
  return static_cast<std::uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

bool is_segment(const std::string& name) {
  return name.size() == 24 && name.ends_with(".buf") &&
         std::all_of(name.begin(), name.begin() + 20, [](char c) { return c >= '0' && c <= '9'; });
}

// Checks "<crc hex8> <record>"; returns the record, or nothing.
std::optional<std::string_view> verified(std::string_view line) {
  if (line.size() < 10 || line[8] != ' ') return std::nullopt;
  std::uint32_t want = 0;
  for (int i = 0; i < 8; ++i) {
    char c = line[static_cast<std::size_t>(i)];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    want = want << 4 | static_cast<std::uint32_t>(d);
  }
  std::string_view record = line.substr(9);
  if (crc_of(record) != want) return std::nullopt;
  return record;
}

}  // namespace

void append_buffer_record(std::string& out, const core::Event& e, core::Rfc3339Cache& cache) {
  const std::size_t start = out.size();
  out.append("00000000 ");
  append_event_record(out, e, cache);
  std::string_view record(out.data() + start + 9, out.size() - start - 10);  // without its \n
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08" PRIx32, crc_of(record));
  std::memcpy(out.data() + start, hex, 8);
}

DiskBuffer::DiskBuffer(std::string dir, BufferOptions options, CheckpointStore cursor, pipeline::ComponentStats* stats)
    : dir_(std::move(dir)), options_(options), cursor_store_(std::move(cursor)), stats_(stats) {}

DiskBuffer::~DiskBuffer() {
  if (write_fd_ >= 0) ::close(write_fd_);
  if (read_fd_ >= 0) ::close(read_fd_);
}

std::string DiskBuffer::path_of(std::uint64_t seq) const {
  char name[32];
  std::snprintf(name, sizeof name, "%020" PRIu64 ".buf", seq);
  return dir_ + "/" + name;
}

void DiskBuffer::open() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  std::vector<Segment> found;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    std::string name = e.path().filename().string();
    if (!is_segment(name)) continue;
    found.push_back(Segment{std::strtoull(name.c_str(), nullptr, 10), e.file_size(ec)});
  }
  std::sort(found.begin(), found.end(), [](const Segment& a, const Segment& b) { return a.seq < b.seq; });
  LoadResult cursor = cursor_store_.load();  // a corrupt one is reported: start from the oldest segment
  unsigned long long seq = 0, off = 0;
  if (cursor && !cursor.body.empty() && std::sscanf(cursor.body.c_str(), "%llu %llu", &seq, &off) != 2) seq = off = 0;
  std::lock_guard lock(mu_);
  for (const Segment& s : found) {
    if (s.seq < seq) {  // sent before the last stop
      std::filesystem::remove(path_of(s.seq), ec);
      continue;
    }
    segments_.push_back(s);
    total_ += s.size;
  }
  if (!segments_.empty() && segments_.front().seq == seq) {
    read_seq_ = seq;
    read_off_ = std::min<std::uint64_t>(off, segments_.front().size);
  } else if (!segments_.empty()) {
    read_seq_ = segments_.front().seq;
    read_off_ = 0;
  }
  next_seq_ = read_seq_;
  next_off_ = read_off_;
  if (stats_) stats_->buffer_bytes.store(static_cast<std::int64_t>(total_));
  if (total_ > 0) core::log::info(dir_, "disk buffer: ", total_, " bytes from before; they go out first");
}

DiskBuffer::Put DiskBuffer::append(std::string_view lines, const std::function<bool()>& give_up) {
  std::unique_lock lock(mu_);
  bool warned = false;
  while (total_ + lines.size() > options_.max_bytes && total_ > 0) {
    if (options_.drop_newest) return Put::kDropped;
    if (!warned) {
      core::log::warn(dir_, "disk buffer full (max_bytes ", options_.max_bytes, "): the pipeline waits");
      warned = true;
    }
    if (give_up()) return Put::kFailed;
    cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
  if (write_fd_ < 0 || segments_.empty() || segments_.back().size >= kSegmentBytes) {
    if (write_fd_ >= 0) ::close(write_fd_);
    std::uint64_t seq = segments_.empty() ? read_seq_ + 1 : segments_.back().seq + 1;
    write_fd_ = ::open(path_of(seq).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
    if (write_fd_ < 0) {
      core::log::error(dir_, "cannot create a buffer segment: ", std::strerror(errno));
      return Put::kFailed;
    }
    fsync_dir(dir_);
    segments_.push_back(Segment{seq, 0});
  }
  const int fd = write_fd_;
  lock.unlock();  // the reader reads only up to the durable size, kept under the lock
  const bool ok = write_all(fd, lines) && ::fdatasync(fd) == 0;
  lock.lock();
  if (!ok) {
    core::log::error(dir_, "cannot write the disk buffer: ", std::strerror(errno), "; the batch stays unacknowledged");
    ::close(write_fd_);  // what was partly written lies past the durable size: a new segment follows
    write_fd_ = -1;
    return Put::kFailed;
  }
  segments_.back().size += lines.size();
  total_ += lines.size();
  if (stats_) stats_->buffer_bytes.store(static_cast<std::int64_t>(total_));
  cv_.notify_all();
  return Put::kStored;
}

void DiskBuffer::close_writer() {
  std::lock_guard lock(mu_);
  writer_closed_ = true;
  if (write_fd_ >= 0) {
    ::close(write_fd_);
    write_fd_ = -1;
  }
  cv_.notify_all();
}

bool DiskBuffer::finished() const {
  std::lock_guard lock(mu_);
  if (!writer_closed_) return false;
  return segments_.empty() || (segments_.back().seq == next_seq_ && next_off_ >= segments_.back().size);
}

void DiskBuffer::quarantine(std::string_view line, const char* why) {
  std::string path = dir_ + "/quarantine.ndjson";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd >= 0) {
    std::string copy(line);
    copy.push_back('\n');
    [[maybe_unused]] ssize_t n = ::write(fd, copy.data(), copy.size());
    ::close(fd);
  }
  if (stats_) stats_->add_dropped("buffer_corrupt", 1);
  core::log::error(dir_, "disk buffer: a corrupt record (", why, ") moved to ", path);
}

std::size_t DiskBuffer::read(core::Batch& batch, std::size_t max_events, std::chrono::milliseconds wait) {
  std::uint64_t end = 0;
  bool last_segment = false;
  {
    std::unique_lock lock(mu_);
    auto has_data = [&] {
      for (const Segment& s : segments_) {
        if (s.seq < next_seq_) continue;
        if (s.seq == next_seq_ && next_off_ < s.size) return true;
        if (s.seq > next_seq_) {  // the current one is done: move on
          next_seq_ = s.seq;
          next_off_ = 0;
          if (s.size > 0) return true;
        }
      }
      return false;
    };
    if (!cv_.wait_for(lock, wait, [&] { return has_data() || writer_closed_; }) || !has_data()) return 0;
    for (const Segment& s : segments_) {
      if (s.seq == next_seq_) end = s.size;
    }
    last_segment = segments_.back().seq == next_seq_ && !writer_closed_;
  }
  if (read_fd_ < 0 || read_fd_seq_ != next_seq_) {
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = ::open(path_of(next_seq_).c_str(), O_RDONLY | O_CLOEXEC);
    read_fd_seq_ = next_seq_;
    if (read_fd_ < 0) {
      core::log::error(dir_, "cannot read buffer segment ", path_of(next_seq_), ": ", std::strerror(errno));
      next_off_ = end;  // skip it: it is gone
      return 0;
    }
  }
  std::size_t count = 0;
  while (count < max_events && next_off_ < end) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(end - next_off_, kReadChunk));
    chunk_.resize(want);
    ssize_t n = ::pread(read_fd_, chunk_.data(), want, static_cast<off_t>(next_off_));
    if (n <= 0) break;
    chunk_.resize(static_cast<std::size_t>(n));
    std::size_t pos = 0;
    while (count < max_events && pos < chunk_.size()) {
      std::size_t nl = chunk_.find('\n', pos);
      if (nl == std::string::npos) break;
      std::string_view line(chunk_.data() + pos, nl - pos);
      auto record = verified(line);
      DecodedRecord meta;
      if (!record) {
        quarantine(line, "checksum mismatch");
      } else if (!decode_record(*record, batch, meta)) {
        quarantine(line, "not a record");
      } else {
        ++count;
      }
      pos = nl + 1;
    }
    if (pos == 0) {
      // No whole line in the chunk: a record longer than it, or a torn end.
      if (want == kReadChunk && next_off_ + want < end) {
        std::string big;
        std::uint64_t at = next_off_;
        std::size_t nl = std::string::npos;
        while (nl == std::string::npos && at < end) {
          std::size_t k = big.size();
          big.resize(k + kReadChunk);
          ssize_t r = ::pread(read_fd_, big.data() + k, kReadChunk, static_cast<off_t>(at));
          if (r <= 0) break;
          big.resize(k + static_cast<std::size_t>(r));
          at += static_cast<std::uint64_t>(r);
          nl = big.find('\n', k);
        }
        if (nl != std::string::npos) {
          std::string_view line(big.data(), nl);
          auto record = verified(line);
          DecodedRecord meta;
          if (record && decode_record(*record, batch, meta)) ++count;
          else quarantine(line, "checksum mismatch");
          next_off_ += nl + 1;
          continue;
        }
      }
      if (last_segment) break;  // the writer is mid-way: it never is, past the durable size
      quarantine(std::string_view(chunk_), "torn at the end of a segment");
      next_off_ = end;
      break;
    }
    next_off_ += pos;
  }
  return count;
}

void DiskBuffer::drop_consumed_locked() {
  std::error_code ec;
  while (!segments_.empty()) {
    const Segment& s = segments_.front();
    bool is_write_segment = segments_.size() == 1 && !writer_closed_;
    bool consumed = s.seq < read_seq_ || (s.seq == read_seq_ && read_off_ >= s.size && !is_write_segment);
    if (!consumed) break;
    std::filesystem::remove(path_of(s.seq), ec);
    total_ -= std::min(total_, s.size);
    segments_.pop_front();
  }
  if (stats_) stats_->buffer_bytes.store(static_cast<std::int64_t>(total_));
}

void DiskBuffer::commit() {
  {
    std::lock_guard lock(mu_);
    read_seq_ = next_seq_;
    read_off_ = next_off_;
    drop_consumed_locked();
  }
  cv_.notify_all();
  if (std::chrono::steady_clock::now() - last_save_ >= kSaveEvery) save_cursor();
}

void DiskBuffer::save_cursor() {
  std::uint64_t seq, off;
  {
    std::lock_guard lock(mu_);
    seq = read_seq_;
    off = read_off_;
  }
  cursor_store_.save(std::to_string(seq) + " " + std::to_string(off) + "\n");
  last_save_ = std::chrono::steady_clock::now();
}

std::uint64_t DiskBuffer::bytes() const {
  std::lock_guard lock(mu_);
  return total_;
}

}  // namespace bifrost::delivery
