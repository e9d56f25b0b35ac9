#include "outputs/common/fd_write.h"

#include <sys/uio.h>

#include <cerrno>
#include <string>

#ifndef RWF_DONTCACHE
#define RWF_DONTCACHE 0x00000080  // <linux/fs.h> since Linux 6.14; Debian 12's headers are older
#endif

namespace bifrost::outputs {

namespace {

constexpr off_t kPage = 4096;

// As core::write_all, with pwritev2 at the file position (the end, with O_APPEND) and RWF_DONTCACHE.
core::SysResult<void> write_dontcache(int fd, std::string_view data, std::size_t& written) {
  written = 0;
  while (written < data.size()) {
    iovec v{const_cast<char*>(data.data() + written), data.size() - written};
    ssize_t w = ::pwritev2(fd, &v, 1, -1, RWF_DONTCACHE);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return core::fail_sys(w < 0 ? errno : EIO);
    written += static_cast<std::size_t>(w);
  }
  return {};
}

}  // namespace

core::SysResult<void> write_all(int fd, std::string_view data, std::size_t& written, UncachedWrites& uncached) {
  written = 0;
  const off_t whole_pages_end = (uncached.start + static_cast<off_t>(data.size())) / kPage * kPage;
  const std::size_t head =
      whole_pages_end > uncached.start ? static_cast<std::size_t>(whole_pages_end - uncached.start) : 0;
  if (uncached.supported && head >= UncachedWrites::kMinBytes) {
    auto r = write_dontcache(fd, data.substr(0, head), written);
    if (!r) {
      // An older kernel (unknown flag) or a file system without it: plainly from here on.
      const int err = r.error().code;
      if (err != EOPNOTSUPP && err != EINVAL && err != ENOSYS) return r;
      uncached.supported = false;
    }
  }
  std::size_t rest = 0;
  auto r = core::write_all(fd, data.substr(written), &rest);
  written += rest;
  return r;
}

core::SysResult<void> write_events(int fd, const core::OutputSlot& slot, std::size_t first, std::size_t last,
                                   pipeline::DeliveryReport& report, std::string_view what, UncachedWrites* uncached) {
  if (first >= last) return {};
  std::size_t begin = first == 0 ? 0 : slot.ends[first - 1];
  std::size_t end = slot.ends[last - 1];
  std::size_t written = 0;
  const std::string_view data(slot.encoded.data() + begin, end - begin);
  auto r = uncached != nullptr ? write_all(fd, data, written, *uncached) : core::write_all(fd, data, &written);
  if (r) return r;
  std::string reason = std::string(what) + ": " + r.error().message();
  for (std::size_t i = first; i < last; ++i) {
    if (slot.ends[i] > begin + written) report.set(i, pipeline::Outcome::kRetry, reason);
  }
  return r;
}

}  // namespace bifrost::outputs
