#include "delivery/private_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace bifrost::delivery {

namespace {

std::string why(const std::string& path) {
  if (errno == ELOOP || errno == ENOTDIR) {
    return path + " is a symlink or not a directory: bifrost does not follow links below data_dir";
  }
  return path + ": " + std::strerror(errno);
}

}  // namespace

int open_private_dir(const std::string& root, const std::string& rel, bool create, std::string& error) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    // data_dir and its missing parents, 0700 (mkdir -p).
    std::filesystem::path p(root);
    std::filesystem::path made;
    for (const auto& part : p) {
      made /= part;
      if (::mkdir(made.c_str(), kPrivateDirMode) != 0 && errno != EEXIST) break;
    }
    fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (fd < 0) {
    const int saved = errno;
    error = why(root);
    errno = saved;
    return -1;
  }
  std::string at = root;
  std::size_t start = 0;
  while (start < rel.size()) {
    std::size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    const std::string part = rel.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    at += "/" + part;
    if (part == "..") {
      ::close(fd);
      error = at + ": \"..\" leaves data_dir";
      errno = EINVAL;
      return -1;
    }
    if (create && ::mkdirat(fd, part.c_str(), kPrivateDirMode) != 0 && errno != EEXIST) {
      const int saved = errno;
      ::close(fd);
      error = why(at);
      errno = saved;
      return -1;
    }
    const int next = ::openat(fd, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const int saved = errno;
    ::close(fd);
    if (next < 0) {
      error = why(at);
      errno = saved;
      return -1;
    }
    fd = next;
  }
  return fd;
}

int open_private_file(const std::string& path, int flags) {
  return ::open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, kPrivateFileMode);
}

}  // namespace bifrost::delivery
