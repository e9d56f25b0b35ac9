#include "core/io.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bifrost::core {

const char* SysError::message() const { return std::strerror(code); }

SysResult<void> write_all(int fd, std::string_view data, std::size_t* written) {
  std::size_t done = 0;
  SysResult<void> result;
  while (done < data.size()) {
    ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (w == 0) errno = EIO;  // nothing went out of a non-empty write: nothing will
      result = fail_sys(errno);
      break;
    }
    done += static_cast<std::size_t>(w);
  }
  if (written != nullptr) *written = done;
  return result;
}

}  // namespace bifrost::core
