#include "delivery/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

namespace bifrost::delivery {

void fsync_dir(const std::string& dir) {
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace bifrost::delivery
