#include "outputs/common/fd_write.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace bifrost::outputs {

int write_all(int fd, const char* data, std::size_t n, std::size_t& written) {
  written = 0;
  while (written < n) {
    ssize_t w = ::write(fd, data + written, n - written);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    written += static_cast<std::size_t>(w);
  }
  return 0;
}

int write_events(int fd, const core::OutputSlot& slot, std::size_t first, std::size_t last,
                 pipeline::DeliveryReport& report, std::string_view what) {
  if (first >= last) return 0;
  std::size_t begin = first == 0 ? 0 : slot.ends[first - 1];
  std::size_t end = slot.ends[last - 1];
  std::size_t written = 0;
  int err = write_all(fd, slot.encoded.data() + begin, end - begin, written);
  if (err == 0) return 0;
  std::string reason = std::string(what) + ": " + std::strerror(err);
  for (std::size_t i = first; i < last; ++i) {
    if (slot.ends[i] > begin + written) report.set(i, pipeline::Outcome::kRetry, reason);
  }
  return err;
}

}  // namespace bifrost::outputs
