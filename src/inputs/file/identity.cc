#include "inputs/file/identity.h"

#include <unistd.h>

#include <cerrno>

namespace bifrost::inputs::file {

std::uint64_t hash_bytes(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

core::SysResult<void> read_prefix(int fd, std::size_t n, std::string& out) {
  out.resize(n);
  std::size_t got = 0;
  core::SysResult<void> result;
  while (got < n) {
    ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      result = core::fail_sys(errno);
      break;
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return result;
}

std::uint64_t source_id(const FileId& id, const Fingerprint& fp) {
  std::uint64_t h = fp.hash ^ (id.dev * 0x9E3779B97F4A7C15ull) ^ (id.ino * 0xC2B2AE3D27D4EB4Full);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

}  // namespace bifrost::inputs::file
