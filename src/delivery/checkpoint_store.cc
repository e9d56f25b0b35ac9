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
      on_corrupt_(std::move(on_corrupt)) {}

CheckpointStore CheckpointStore::stage_state(const std::string& data_dir, const std::string& pipeline,
                                             const std::string& component, core::Counter* errors,
                                             std::string on_corrupt) {
  return CheckpointStore(data_dir, "state/" + pipeline, component + ".state", "state file", errors, nullptr,
                         std::move(on_corrupt));
}

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
    std::string why = "cannot read the " + noun() + ": " +
                      (dfd < 0          ? dir_error
                       : errno == ELOOP ? std::string("it is a symlink (not followed)")
                                        : std::string(std::strerror(errno)));
    core::log::error(path_, why);
    if (errors_) errors_->add(1);
    return core::fail(Errc::kIo, why);
  }
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  int read_errno = errno;
  ::close(fd);
  if (n < 0) {
    std::string why = "cannot read the " + noun() + ": " + std::strerror(read_errno);
    core::log::error(path_, why);
    if (errors_) errors_->add(1);
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
  set_aside(why);
  return core::fail(Errc::kCorrupt, "corrupt " + noun() + " (" + why + ")");
}

void CheckpointStore::set_aside(std::string_view why) {
  std::string aside = path_ + ".corrupt-" + std::to_string(std::time(nullptr));
  bool moved = ::rename(path_.c_str(), aside.c_str()) == 0;
  core::log::error(path_, "corrupt ", noun(), " (", why, "); ",
                   moved ? "moved aside to " + aside : std::string("could not move it aside: ") + std::strerror(errno),
                   "; starting without it: ", on_corrupt_);
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
  char header[96];
  int hn = std::snprintf(header, sizeof header, "%s %d %zu %08" PRIx32 "\n", kMagic.data(), kVersion, size, sum);
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

}  // namespace bifrost::delivery
