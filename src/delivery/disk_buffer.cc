#include "delivery/disk_buffer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "core/json.h"
#include "core/log.h"
#include "delivery/buffer_record.h"
#include "delivery/durable_file.h"
#include "delivery/private_dir.h"
#include "delivery/record.h"

namespace bifrost::delivery {

namespace {

constexpr std::uint64_t kSegmentBytes = 16u << 20;
constexpr std::size_t kReadChunk = 4u << 20;
constexpr auto kSaveEvery = std::chrono::milliseconds(200);
// Every segment starts with this; one without it (an older format, or not a
// segment at all) is set aside whole.
constexpr std::string_view kMagic = "bifrost-buffer2\n";
// The smallest payload: timestamp, offset, source id, two empty strings, a null.
constexpr std::uint32_t kMinPayload = 8 + 8 + 8 + 4 + 4 + 1;

bool is_segment(const std::string& name) {
  return name.size() == 24 && name.ends_with(".buf") &&
         std::all_of(name.begin(), name.begin() + 20, [](char c) { return c >= '0' && c <= '9'; });
}

// True when a whole record with a matching checksum starts at `at`.
bool valid_record_at(std::string_view bytes, std::size_t at) {
  auto h = read_record_header(bytes.substr(at));
  if (!h || h->length < kMinPayload) return false;
  if (bytes.size() - at - kRecordHeader < h->length) return false;
  return checksum_matches(bytes.substr(at + kRecordHeader, h->length), h->crc);
}

// Where the next valid record starts from `from` on, or bytes.size().
std::size_t next_valid_record(std::string_view bytes, std::size_t from) {
  for (std::size_t q = from; q + kRecordHeader <= bytes.size(); ++q) {
    if (valid_record_at(bytes, q)) return q;
  }
  return bytes.size();
}

}  // namespace

DiskBuffer::DiskBuffer(std::string data_dir, std::string rel, BufferOptions options, CheckpointStore cursor,
                       core::ComponentStats* stats)
    : root_(std::move(data_dir)),
      rel_(std::move(rel)),
      dir_(root_ + "/" + rel_),
      options_(options),
      cursor_store_(std::move(cursor)),
      stats_(stats) {}

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
  std::string dir_error;
  if (int dfd = open_private_dir(root_, rel_, /*create=*/true, dir_error); dfd >= 0) {
    ::close(dfd);
  } else {
    core::log::error(dir_, "disk buffer: ", dir_error);
    return;  // nothing is read from there; appends fail (and are retried) the same way
  }
  std::vector<Segment> found;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    std::string name = e.path().filename().string();
    if (!is_segment(name) || e.is_symlink(ec)) continue;
    found.push_back(Segment{std::strtoull(name.c_str(), nullptr, 10), e.file_size(ec)});
  }
  std::sort(found.begin(), found.end(), [](const Segment& a, const Segment& b) { return a.seq < b.seq; });
  auto cursor = cursor_store_.load();  // a corrupt one is reported: start from the oldest segment
  unsigned long long seq = 0, off = 0;
  if (cursor && !cursor->empty() && std::sscanf(cursor->c_str(), "%llu %llu", &seq, &off) != 2) seq = off = 0;
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

Result<DiskBuffer::Put> DiskBuffer::append(std::string_view records, const std::function<bool()>& give_up) {
  std::unique_lock lock(mu_);
  bool warned = false;
  while (total_ + records.size() > options_.max_bytes && total_ > 0) {
    if (options_.drop_newest) return Put::kDropped;
    if (!warned) {
      core::log::warn(dir_, "disk buffer full (max_bytes ", options_.max_bytes, "): the pipeline waits");
      warned = true;
    }
    if (give_up()) return core::fail(Errc::kGivenUp, "the disk buffer is full");
    cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
  if (write_fd_ < 0 || segments_.empty() || segments_.back().size >= kSegmentBytes) {
    if (write_fd_ >= 0) ::close(write_fd_);
    write_fd_ = -1;
    std::uint64_t seq = segments_.empty() ? read_seq_ + 1 : segments_.back().seq + 1;
    const std::string path = path_of(seq);
    std::string dir_error;
    const int dfd = open_private_dir(root_, rel_, /*create=*/true, dir_error);
    if (dfd < 0) core::log::error(dir_, "disk buffer: ", dir_error);
    int fd = dfd < 0 ? -1
                     : ::openat(dfd, path.substr(dir_.size() + 1).c_str(),
                                O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, kPrivateFileMode);
    if (dfd >= 0) ::close(dfd);
    if (fd < 0 || !core::write_all(fd, kMagic)) {  // errno for write_failed
      write_failed("cannot create a buffer segment: ");
      if (fd >= 0) {
        ::close(fd);
        ::unlink(path.c_str());
      }
      return core::fail(Errc::kIo, "cannot create a buffer segment");
    }
    fsync_dir(dir_);
    write_fd_ = fd;
    segments_.push_back(Segment{seq, kMagic.size(), true});
    total_ += kMagic.size();
  }
  const int fd = write_fd_;
  const std::uint64_t durable = segments_.back().size;
  lock.unlock();  // the reader reads only up to the durable size, kept under the lock
  bool ok = core::write_all(fd, records) && ::fdatasync(fd) == 0;  // errno for write_failed
  if (!ok) {
    write_failed("cannot write the disk buffer: ");
    // Cut what was partly written, so the segment holds whole records only
    // (on a full disk, shrinking a file works; if even that fails, the
    // reader stops at the durable size, and after a restart the tail is set
    // aside as torn). A segment holding records is closed: a new one
    // follows, and this one is deleted once sent (on a full disk, that is
    // how space comes back). An empty one is kept for the next attempt.
    const bool cut = ::ftruncate(fd, static_cast<off_t>(durable)) == 0;
    lock.lock();
    if (cut && durable == kMagic.size()) return core::fail(Errc::kIo, "cannot write the disk buffer");
    ::close(write_fd_);
    write_fd_ = -1;
    cv_.notify_all();
    return core::fail(Errc::kIo, "cannot write the disk buffer");
  }
  lock.lock();
  segments_.back().size += records.size();
  total_ += records.size();
  if (stats_) stats_->buffer_bytes.store(static_cast<std::int64_t>(total_));
  cv_.notify_all();
  return Put::kStored;
}

void DiskBuffer::write_failed(const char* what) {
  const int err = errno;
  if (stats_) stats_->disk_write_errors.add(1);
  core::log::error(dir_, what, std::strerror(err), "; the batch stays unacknowledged and is written again");
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

// Sets bytes that cannot be sent aside in quarantine.ndjson, one JSON line
// each: as a failed-queue record when they still decode to an event (a
// checksum mismatch in a message), else the bytes themselves as a string.
void DiskBuffer::quarantine(std::string_view bytes, std::uint64_t offset, const char* why) {
  std::string line;
  core::Arena arena;
  core::Event e;
  RecordSource source;
  const std::string_view component = stats_ ? std::string_view(stats_->component) : std::string_view();
  const std::string_view pipeline = stats_ ? std::string_view(stats_->pipeline) : std::string_view();
  const std::int64_t now = core::now_ns();
  if (auto h = read_record_header(bytes); h && h->length == bytes.size() - kRecordHeader &&
                                          decode_buffer_record(bytes.substr(kRecordHeader), e, source, arena)) {
    core::Rfc3339Cache cache;
    append_record(line, e, RecordMeta{pipeline, component, why, 0, now}, cache);
  } else {
    char time[core::kRfc3339NsLen];
    core::format_rfc3339_ns(now, time);
    line.append("{\"time\":\"").append(time, sizeof time).append("\",\"pipeline\":");
    core::append_json_string(line, pipeline);
    line.append(",\"component\":");
    core::append_json_string(line, component);
    line.append(",\"error\":");
    core::append_json_string(line, why);
    line.append(",\"segment\":");
    core::append_json_string(line, path_of(next_seq_));
    line.append(",\"offset\":").append(std::to_string(offset)).append(",\"bytes\":");
    core::append_json_string(line, bytes);
    line.append("}\n");
  }
  const std::string path = dir_ + "/quarantine.ndjson";
  int fd = open_private_file(path, O_WRONLY | O_CREAT | O_APPEND);
  if (fd < 0) {
    core::log::error(dir_, "cannot write ", path, ": ", std::strerror(errno));
  } else if (auto w = core::write_all(fd, line); !w) {
    core::log::error(dir_, "cannot write ", path, ": ", w.error().message());
  }
  if (fd >= 0) ::close(fd);
  if (stats_) stats_->add_dropped("buffer_corrupt", 1);
  core::log::error(dir_, "disk buffer: ", bytes.size(), " corrupt bytes (", why, ") at ", path_of(next_seq_), ":",
                   offset, " set aside in ", path);
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
    last_segment = segments_.back().seq == next_seq_ && segments_.back().written_here && !writer_closed_;
  }
  if (read_fd_ < 0 || read_fd_seq_ != next_seq_) {
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = open_private_file(path_of(next_seq_), O_RDONLY);
    read_fd_seq_ = next_seq_;
    if (read_fd_ < 0) {
      core::log::error(dir_, "cannot read buffer segment ", path_of(next_seq_), ": ", std::strerror(errno));
      next_off_ = end;  // skip it: it is gone
      return 0;
    }
  }
  core::ByteBuffer& chunk = batch.chunk;  // the events' strings stay here
  auto fill = [&](std::size_t at, std::size_t want) {
    chunk.resize(at + want);
    ssize_t n = ::pread(read_fd_, chunk.data() + at, want, static_cast<off_t>(next_off_ + at));
    chunk.resize(at + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
  };
  if (next_off_ < kMagic.size()) {
    fill(0, static_cast<std::size_t>(std::min<std::uint64_t>(end, kMagic.size())));
    if (std::string_view(chunk.data(), chunk.size()) != kMagic) {
      // An older format, or not a segment at all: set aside whole.
      const std::string path = path_of(next_seq_);
      const std::string aside = dir_ + "/quarantine-" + path.substr(dir_.size() + 1);
      std::error_code ec;
      std::filesystem::rename(path, aside, ec);
      if (stats_) stats_->add_dropped("buffer_corrupt", 1);
      core::log::error(dir_, "disk buffer: ", path,
                       " is not a bifrost-buffer2 segment (an older format, or damaged); "
                       "moved to ",
                       aside, ec ? " (failed: " + ec.message() + ")" : std::string());
      next_off_ = end;
      return 0;
    }
    next_off_ = kMagic.size();
  }
  fill(0, static_cast<std::size_t>(std::min<std::uint64_t>(end - next_off_, kReadChunk)));
  std::size_t pos = 0, count = 0;
  while (count < max_events) {
    std::string_view bytes(chunk.data(), chunk.size());
    const auto header = read_record_header(bytes.substr(pos));
    if (!header && (pos == chunk.size() || next_off_ + chunk.size() < end)) break;  // the rest comes with the next read
    const std::uint32_t length = header ? header->length : 0;                       // 0: a torn header at the end
    const std::uint32_t crc = header ? header->crc : 0;
    const std::uint64_t record_end = next_off_ + pos + kRecordHeader + length;
    if (length < kMinPayload || record_end > end) {
      // Not a record: a torn end (the segment ends mid-record) or damaged
      // bytes. What lies up to the next valid record is set aside.
      if (last_segment && length >= kMinPayload && record_end > end) break;  // never past the durable size
      const std::size_t q = next_valid_record(bytes, pos + 1);
      const bool torn = q == bytes.size() && next_off_ + q == end;
      quarantine(bytes.substr(pos, q - pos), next_off_ + pos, torn ? "torn at the end of a segment" : "damaged");
      pos = q;
      continue;
    }
    if (pos + kRecordHeader + length > chunk.size()) {
      if (count > 0 || pos > 0) break;  // the next read starts with it
      fill(chunk.size(),
           static_cast<std::size_t>(record_end - next_off_) - chunk.size());  // a record bigger than a read
      continue;
    }
    std::string_view record = bytes.substr(pos, kRecordHeader + length);
    std::string_view payload = record.substr(kRecordHeader);
    if (!checksum_matches(payload, crc)) {
      // Damaged inside: skip it when the next record is where its length
      // says, else look for the next valid record.
      std::size_t q = pos + record.size();
      if (q != bytes.size() && !valid_record_at(bytes, q)) q = next_valid_record(bytes, pos + 1);
      quarantine(bytes.substr(pos, q - pos), next_off_ + pos, "checksum mismatch");
      pos = q;
      continue;
    }
    RecordSource source;
    core::Event& e = batch.events.emplace_back();
    if (!decode_buffer_record(payload, e, source, batch.arena)) {
      batch.events.pop_back();
      quarantine(record, next_off_ + pos, "not a record");
      pos += record.size();
      continue;
    }
    if (count == 0) {
      batch.source_id = source.id;
      batch.source.assign(source.name);
    } else if (source.id != batch.source_id || source.name != batch.source) {
      batch.events.pop_back();  // one source per batch: it starts the next one
      break;
    }
    ++count;
    pos += record.size();
  }
  next_off_ += pos;
  return count;
}

void DiskBuffer::drop_consumed_locked() {
  std::error_code ec;
  while (!segments_.empty()) {
    const Segment& s = segments_.front();
    bool is_write_segment = segments_.size() == 1 && write_fd_ >= 0;
    bool consumed = s.seq < read_seq_ || (s.seq == read_seq_ && read_off_ >= s.size && !is_write_segment);
    if (!consumed) break;
    std::filesystem::remove(path_of(s.seq), ec);
    total_ -= std::min(total_, s.size);
    segments_.pop_front();
  }
  if (stats_) stats_->buffer_bytes.store(static_cast<std::int64_t>(total_));
}

DiskBuffer::Position DiskBuffer::read_position() const {
  std::lock_guard lock(mu_);  // has_data() moves next_seq_ under it
  return Position{next_seq_, next_off_};
}

void DiskBuffer::commit(Position p) {
  {
    std::lock_guard lock(mu_);
    read_seq_ = p.seq;
    read_off_ = p.off;
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
  (void)cursor_store_.save(std::to_string(seq) + " " + std::to_string(off) +
                           "\n");  // reported; read again after a crash
  last_save_ = std::chrono::steady_clock::now();
}

std::uint64_t DiskBuffer::bytes() const {
  std::lock_guard lock(mu_);
  return total_;
}

}  // namespace bifrost::delivery
