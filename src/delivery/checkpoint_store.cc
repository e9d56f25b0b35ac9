#include "delivery/checkpoint_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

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

}  // namespace

CheckpointStore::CheckpointStore(const std::string& data_dir, const std::string& pipeline, const std::string& component,
                                 core::ComponentStats* stats)
    : root_(data_dir),
      rel_("checkpoints/" + pipeline),
      dir_(data_dir + "/" + rel_),
      name_(component + ".ckpt"),
      path_(dir_ + "/" + name_),
      stats_(stats) {}

Result<std::string> CheckpointStore::load() {
  std::string text, dir_error;
  int dfd = open_private_dir(root_, rel_, /*create=*/false, dir_error);
  if (dfd < 0 && errno == ENOENT) return std::string();
  int fd = dfd < 0 ? -1 : ::openat(dfd, name_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  const int open_errno = errno;
  if (dfd >= 0) ::close(dfd);
  errno = open_errno;
  if (fd < 0) {
    if (errno == ENOENT) return std::string();
    std::string why = "cannot read the checkpoint: " + (dfd < 0          ? dir_error
                                                        : errno == ELOOP ? std::string("it is a symlink (not followed)")
                                                                         : std::string(std::strerror(errno)));
    core::log::error(path_, why);
    if (stats_) stats_->checkpoint_errors.add(1);
    return core::fail(Errc::kIo, why);
  }
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  int read_errno = errno;
  ::close(fd);
  if (n < 0) {
    std::string why = std::string("cannot read the checkpoint: ") + std::strerror(read_errno);
    core::log::error(path_, why);
    if (stats_) stats_->checkpoint_errors.add(1);
    return core::fail(Errc::kIo, why);
  }

  std::string why;
  std::size_t nl = text.find('\n');
  std::string_view header(text.data(), nl == std::string::npos ? text.size() : nl);
  char magic[32] = {};
  int version = 0;
  unsigned long long length = 0;
  unsigned int sum = 0;
  std::string header_str(header);
  if (nl == std::string::npos ||
      std::sscanf(header_str.c_str(), "%31s %d %llu %x", magic, &version, &length, &sum) != 4 || kMagic != magic) {
    why = "no valid header";
  } else if (version != kVersion) {
    why = "unknown format version " + std::to_string(version);
  } else if (text.size() - nl - 1 != length) {
    why = "length " + std::to_string(text.size() - nl - 1) + " where the header says " + std::to_string(length);
  } else if (crc(std::string_view(text).substr(nl + 1)) != sum) {
    why = "checksum mismatch";
  }
  if (why.empty()) return text.substr(nl + 1);

  std::string aside = path_ + ".corrupt-" + std::to_string(std::time(nullptr));
  bool moved = ::rename(path_.c_str(), aside.c_str()) == 0;
  core::log::error(path_, "corrupt checkpoint (", why, "); ",
                   moved ? "moved aside to " + aside : std::string("could not move it aside: ") + std::strerror(errno),
                   "; starting without it: files are read from their start (duplicates, not loss)");
  if (stats_) stats_->checkpoint_errors.add(1);
  return core::fail(Errc::kCorrupt, "corrupt checkpoint (" + why + ")");
}

Result<void> CheckpointStore::save(std::string_view body) {
  auto started = std::chrono::steady_clock::now();
  auto fail = [&](const char* what) -> Result<void> {
    std::string why = std::string("cannot write the checkpoint (") + what + "): " + std::strerror(errno);
    core::log::error(path_, why, "; the previous one stays");
    if (stats_) stats_->checkpoint_errors.add(1);
    return core::fail(Errc::kIo, why);
  };
  std::string dir_error;
  const int dfd = open_private_dir(root_, rel_, /*create=*/true, dir_error);
  if (dfd < 0) {
    std::string why = "cannot write the checkpoint: " + dir_error;
    core::log::error(path_, why, "; the previous one stays");
    if (stats_) stats_->checkpoint_errors.add(1);
    return core::fail(Errc::kIo, why);
  }
  char header[96];
  int hn = std::snprintf(header, sizeof header, "%s %d %zu %08" PRIx32 "\n", kMagic.data(), kVersion, body.size(),
                         crc(body));
  const std::string tmp = name_ + ".tmp";
  int fd = ::openat(dfd, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) {
    const int saved = errno;
    ::close(dfd);
    errno = saved;
    return fail("open");
  }
  bool ok =
      write_all(fd, std::string_view(header, static_cast<std::size_t>(hn))) && write_all(fd, body) && ::fsync(fd) == 0;
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
  if (stats_) {
    stats_->checkpoint_duration.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  return {};
}

}  // namespace bifrost::delivery
