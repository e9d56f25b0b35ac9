#include "outputs/common/fd_write.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#ifndef RWF_DONTCACHE
#define RWF_DONTCACHE 0x00000080  // <linux/fs.h> since Linux 6.14; Debian 12's headers are older
#endif

namespace bifrost::outputs {

namespace {

constexpr off_t kPage = 4096;

// Writes at the file position (the end, with O_APPEND); `flags` for pwritev2.
int write_flags(int fd, const char* data, std::size_t n, std::size_t& written, int flags) {
  written = 0;
  while (written < n) {
    ssize_t w;
    if (flags == 0) {
      w = ::write(fd, data + written, n - written);
    } else {
      iovec v{const_cast<char*>(data + written), n - written};
      w = ::pwritev2(fd, &v, 1, -1, flags);
    }
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    written += static_cast<std::size_t>(w);
  }
  return 0;
}

}  // namespace

int write_all(int fd, const char* data, std::size_t n, std::size_t& written) {
  return write_flags(fd, data, n, written, 0);
}

int write_all(int fd, const char* data, std::size_t n, std::size_t& written, UncachedWrites& uncached) {
  written = 0;
  const off_t whole_pages_end = (uncached.start + static_cast<off_t>(n)) / kPage * kPage;
  const std::size_t head =
      whole_pages_end > uncached.start ? static_cast<std::size_t>(whole_pages_end - uncached.start) : 0;
  if (uncached.supported && head >= UncachedWrites::kMinBytes) {
    int err = write_flags(fd, data, head, written, RWF_DONTCACHE);
    // An older kernel (unknown flag) or a file system without it: plainly from here on.
    if (err == EOPNOTSUPP || err == EINVAL || err == ENOSYS) {
      uncached.supported = false;
    } else if (err != 0) {
      return err;
    }
  }
  std::size_t rest = 0;
  int err = write_flags(fd, data + written, n - written, rest, 0);
  written += rest;
  return err;
}

int write_events(int fd, const core::OutputSlot& slot, std::size_t first, std::size_t last,
                 pipeline::DeliveryReport& report, std::string_view what, UncachedWrites* uncached) {
  if (first >= last) return 0;
  std::size_t begin = first == 0 ? 0 : slot.ends[first - 1];
  std::size_t end = slot.ends[last - 1];
  std::size_t written = 0;
  const char* data = slot.encoded.data() + begin;
  int err = uncached != nullptr ? write_all(fd, data, end - begin, written, *uncached)
                                : write_all(fd, data, end - begin, written);
  if (err == 0) return 0;
  std::string reason = std::string(what) + ": " + std::strerror(err);
  for (std::size_t i = first; i < last; ++i) {
    if (slot.ends[i] > begin + written) report.set(i, pipeline::Outcome::kRetry, reason);
  }
  return err;
}

}  // namespace bifrost::outputs
