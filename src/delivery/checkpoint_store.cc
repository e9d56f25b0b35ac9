#include "delivery/checkpoint_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "core/log.h"
#include "delivery/durable_file.h"
#include "delivery/private_dir.h"

namespace bifrost::delivery {

namespace {

constexpr int kVersion = 1;
constexpr std::string_view kMagic = "bifrost-checkpoint";

std::uint32_t crc(std::string_view body) {
  return static_cast<std::uint32_t>(
      ::crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
}

// One copy's text, parsed: its body and sequence number, or why not.
// `live`: bytes past the body are allowed (a live slot is rewritten in
// place, and cut to size only after the write).
struct Parsed {
  std::string_view body;
  std::uint64_t seq = 0;
  std::string why;  // empty: valid
};

Parsed parse(std::string_view text, bool live) {
  Parsed p;
  std::size_t nl = text.find('\n');
  std::string header(text.substr(0, nl == std::string_view::npos ? text.size() : nl));
  char magic[32] = {};
  int version = 0;
  unsigned long long length = 0, seq = 0;
  unsigned int sum = 0;
  const int fields = std::sscanf(header.c_str(), "%31s %d %llu %x %llu", magic, &version, &length, &sum, &seq);
  if (nl == std::string_view::npos || fields < 4 || kMagic != magic) {
    p.why = "no valid header";
  } else if (version != kVersion) {
    p.why = "unknown format version " + std::to_string(version);
  } else if (live ? text.size() - nl - 1 < length : text.size() - nl - 1 != length) {
    p.why = "length " + std::to_string(text.size() - nl - 1) + " where the header says " + std::to_string(length);
  } else if (crc(text.substr(nl + 1, length)) != sum) {
    p.why = "checksum mismatch";
  } else {
    p.body = text.substr(nl + 1, length);
    p.seq = fields == 5 ? seq : 0;
  }
  return p;
}

// The whole file `name` in the directory `dfd`, never through a symlink
// (ELOOP), or errno (ENOENT: there is none).
int read_at(int dfd, const std::string& name, std::string& text) {
  text.clear();
  int fd = ::openat(dfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  int read_errno = n < 0 ? errno : 0;
  ::close(fd);
  return read_errno;
}

std::string read_error(int err) {
  return err == ELOOP ? std::string("it is a symlink (not followed)") : std::string(std::strerror(err));
}

}  // namespace

struct CheckpointStore::Live {
  std::atomic<std::uint64_t> seq{0};  // the last one given to a copy, durable or live
  int fd[2] = {-1, -1};
  std::uint64_t size[2] = {0, 0};  // what each slot's file holds
  int next = 0;                    // the slot the next write goes to
  bool failing = false;            // the last write failed (logged once per run of failures)
  std::string record;              // header and body of the write being made
  static std::string slot_name(const std::string& name, int slot) { return name + ".live" + std::to_string(slot); }
  void close_all() {
    for (int& f : fd) {
      if (f >= 0) ::close(f);
      f = -1;
    }
  }
  ~Live() { close_all(); }
};

CheckpointStore::CheckpointStore(const std::string& data_dir, const std::string& pipeline, const std::string& component,
                                 core::ComponentStats* stats)
    : CheckpointStore(data_dir, "checkpoints/" + pipeline, component + ".ckpt", "checkpoint",
                      stats ? &stats->checkpoint_errors : nullptr, stats ? &stats->checkpoint_duration : nullptr,
                      "files are read from their start (duplicates, not loss)") {}

CheckpointStore::CheckpointStore(std::string root, std::string rel, std::string name, std::string noun,
                                 core::Counter* errors, core::Histogram* durations, std::string on_corrupt)
    : root_(std::move(root)),
      rel_(std::move(rel)),
      dir_(root_ + "/" + rel_),
      name_(std::move(name)),
      path_(dir_ + "/" + name_),
      noun_(std::move(noun)),
      errors_(errors),
      durations_(durations),
      on_corrupt_(std::move(on_corrupt)),
      loaded_from_(path_),
      live_(std::make_unique<Live>()) {}

CheckpointStore::~CheckpointStore() = default;
CheckpointStore::CheckpointStore(CheckpointStore&&) noexcept = default;
CheckpointStore& CheckpointStore::operator=(CheckpointStore&&) noexcept = default;

CheckpointStore CheckpointStore::stage_state(const std::string& data_dir, const std::string& pipeline,
                                             const std::string& component, core::Counter* errors,
                                             std::string on_corrupt) {
  return CheckpointStore(data_dir, "state/" + pipeline, component + ".state", "state file", errors, nullptr,
                         std::move(on_corrupt));
}

Result<std::string> CheckpointStore::load() {
  loaded_from_ = path_;
  std::string dir_error;
  const int dfd = open_private_dir(root_, rel_, /*create=*/false, dir_error);
  if (dfd < 0 && errno == ENOENT) return std::string();
  if (dfd < 0) {
    std::string why = "cannot read the " + noun() + ": " + dir_error;
    core::log::error(path_, why);
    if (errors_) errors_->add(1);
    return core::fail(Errc::kIo, why);
  }
  // The live slots first: whether one can stand in for a bad durable file.
  std::string live_text[2];
  Parsed live[2];
  int best_live = -1;
  std::uint64_t max_seq = 0;
  for (int k = 0; k < 2; ++k) {
    const std::string file = dir_ + "/" + Live::slot_name(name_, k);
    if (int err = read_at(dfd, Live::slot_name(name_, k), live_text[k]); err != 0) {
      if (err != ENOENT) core::log::warn(file, "cannot read the live copy (", read_error(err), "); passed over");
      continue;
    }
    live[k] = parse(live_text[k], /*live=*/true);
    if (!live[k].why.empty()) {
      core::log::warn(file, "live copy of the ", noun(), " unusable (", live[k].why,
                      ", as a crash in the middle of its write leaves it); passed over");
      continue;
    }
    max_seq = std::max(max_seq, live[k].seq);
    if (best_live < 0 || live[k].seq > live[best_live].seq) best_live = k;
  }
  // The next live write goes to the slot that does not hold the newest one.
  live_->next = best_live == 0 ? 1 : 0;

  std::string text;
  const int err = read_at(dfd, name_, text);
  ::close(dfd);
  const bool have_live = best_live >= 0;
  auto take_live = [&](std::string_view durable_state) -> Result<std::string> {
    loaded_from_ = dir_ + "/" + Live::slot_name(name_, best_live);
    live_->seq.store(max_seq);
    core::log::info(loaded_from_, "the live copy of the ", noun(), " (sequence ", live[best_live].seq,
                    ") is newer than ", durable_state, ": resuming from it");
    return std::string(live[best_live].body);
  };
  if (err == ENOENT) {
    if (have_live) return take_live("the durable one (none)");
    return std::string();
  }
  if (err != 0) {
    std::string why = "cannot read the " + noun() + ": " + read_error(err);
    core::log::error(path_, why, have_live ? "; using its live copy" : "");
    if (errors_) errors_->add(1);
    if (have_live) return take_live("the unreadable durable one");
    return core::fail(Errc::kIo, why);
  }
  Parsed durable = parse(text, /*live=*/false);
  if (!durable.why.empty()) {
    set_aside_file(path_, durable.why, have_live ? "using its live copy" : on_corrupt_);
    if (have_live) return take_live("the corrupt durable one");
    return core::fail(Errc::kCorrupt, "corrupt " + noun() + " (" + durable.why + ")");
  }
  max_seq = std::max(max_seq, durable.seq);
  live_->seq.store(max_seq);
  if (have_live && live[best_live].seq > durable.seq) {
    return take_live("the durable one (sequence " + std::to_string(durable.seq) + ")");
  }
  return std::string(durable.body);
}

void CheckpointStore::set_aside(std::string_view why) { set_aside_file(loaded_from_, why, on_corrupt_); }

void CheckpointStore::set_aside_file(const std::string& file, std::string_view why, std::string_view then) {
  std::string aside = file + ".corrupt-" + std::to_string(std::time(nullptr));
  bool moved = ::rename(file.c_str(), aside.c_str()) == 0;
  core::log::error(file, "corrupt ", noun(), " (", why, "); ",
                   moved ? "moved aside to " + aside : std::string("could not move it aside: ") + std::strerror(errno),
                   "; starting without it: ", then);
  if (errors_) errors_->add(1);
}

Result<void> CheckpointStore::save(std::string_view body) { return save(std::span<const std::string_view>(&body, 1)); }

Result<void> CheckpointStore::save(std::span<const std::string_view> parts) {
  std::size_t size = 0;
  std::uint32_t sum = 0;
  for (std::string_view part : parts) {
    size += part.size();
    sum = static_cast<std::uint32_t>(::crc32_z(sum, reinterpret_cast<const Bytef*>(part.data()), part.size()));
  }
  auto started = std::chrono::steady_clock::now();
  auto fail = [&](const char* what) -> Result<void> {
    std::string why = "cannot write the " + noun() + " (" + what + "): " + std::strerror(errno);
    core::log::error(path_, why, "; the previous one stays");
    if (errors_) errors_->add(1);
    return core::fail(Errc::kIo, why);
  };
  std::string dir_error;
  const int dfd = open_private_dir(root_, rel_, /*create=*/true, dir_error);
  if (dfd < 0) {
    std::string why = "cannot write the " + noun() + ": " + dir_error;
    core::log::error(path_, why, "; the previous one stays");
    if (errors_) errors_->add(1);
    return core::fail(Errc::kIo, why);
  }
  char header[128];
  int hn = std::snprintf(header, sizeof header, "%s %d %zu %08" PRIx32 " %" PRIu64 "\n", kMagic.data(), kVersion, size,
                         sum, live_->seq.fetch_add(1) + 1);
  const std::string tmp = name_ + ".tmp";
  int fd = ::openat(dfd, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) {
    const int saved = errno;
    ::close(dfd);
    errno = saved;
    return fail("open");
  }
  // errno is the failed call's, as `fail` reads it.
  bool ok = core::write_all(fd, std::string_view(header, static_cast<std::size_t>(hn))).has_value();
  for (std::size_t i = 0; ok && i < parts.size(); ++i) ok = core::write_all(fd, parts[i]).has_value();
  ok = ok && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlinkat(dfd, tmp.c_str(), 0);
    ::close(dfd);
    errno = saved;
    return fail("write");
  }
  // Over a symlink planted at the checkpoint's name, rename replaces the
  // link itself: nothing is written where it points.
  if (::renameat(dfd, tmp.c_str(), dfd, name_.c_str()) != 0) {
    saved = errno;
    ::unlinkat(dfd, tmp.c_str(), 0);
    ::close(dfd);
    errno = saved;
    return fail("rename");
  }
  ::fsync(dfd);
  ::close(dfd);
  if (durations_) {
    durations_->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  return {};
}

Result<void> CheckpointStore::save_live(std::string_view body) {
  Live& l = *live_;
  char header[128];
  int hn = std::snprintf(header, sizeof header, "%s %d %zu %08" PRIx32 " %" PRIu64 "\n", kMagic.data(), kVersion,
                         body.size(), crc(body), l.seq.fetch_add(1) + 1);
  l.record.assign(header, static_cast<std::size_t>(hn)).append(body);
  const int slot = l.next;
  const std::string file = dir_ + "/" + Live::slot_name(name_, slot);
  auto fail = [&](const char* what) -> Result<void> {
    std::string why = std::string("cannot write the live copy (") + what + "): " + std::strerror(errno);
    if (!l.failing) {
      core::log::error(file, why, "; the durable ", noun(), ", written every second, stays");
      if (errors_) errors_->add(1);
    }
    l.failing = true;
    return core::fail(Errc::kIo, why);
  };
  if (l.fd[slot] < 0) {
    std::string dir_error;
    const int dfd = open_private_dir(root_, rel_, /*create=*/true, dir_error);
    if (dfd < 0) return fail(dir_error.c_str());
    l.fd[slot] = ::openat(dfd, Live::slot_name(name_, slot).c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                          kPrivateFileMode);
    const int saved = errno;
    ::close(dfd);
    errno = saved;
    if (l.fd[slot] < 0) return fail("open");
    struct stat st {};
    l.size[slot] = ::fstat(l.fd[slot], &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : ~0ull;
  }
  // In place, in one call: a record within one page cannot be torn by a
  // crash of the process; a longer one can, and then the other slot holds
  // the write before it.
  std::size_t done = 0;
  while (done < l.record.size()) {
    ssize_t n = ::pwrite(l.fd[slot], l.record.data() + done, l.record.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("write");
    done += static_cast<std::size_t>(n);
  }
  if (l.size[slot] > l.record.size() && ::ftruncate(l.fd[slot], static_cast<off_t>(l.record.size())) != 0) {
    return fail("truncate");
  }
  l.size[slot] = l.record.size();
  l.next = 1 - slot;
  if (l.failing) core::log::info(file, "the live copy is written again");
  l.failing = false;
  return {};
}

void CheckpointStore::drop_live() {
  live_->close_all();
  for (int k = 0; k < 2; ++k) ::unlink((dir_ + "/" + Live::slot_name(name_, k)).c_str());
  live_->size[0] = live_->size[1] = 0;
}

}  // namespace bifrost::delivery
