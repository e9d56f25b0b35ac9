#include "inputs/common/socket.h"

#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bifrost::inputs {

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

namespace {
core::Unexpected<NetError> sys_fail(const char* what, const ListenAddress& at) {
  return core::fail(NetErrc::kSocket, std::string(what) + " " + at.text + ": " + std::strerror(errno));
}
}  // namespace

core::Result<Fd, NetError> listen_tcp(const ListenAddress& at, int backlog) {
  Fd fd(::socket(at.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return sys_fail("socket", at);
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&at.addr), at.len) != 0) return sys_fail("bind", at);
  if (::listen(fd.get(), backlog) != 0) return sys_fail("listen", at);
  return fd;
}

core::Result<Fd, NetError> bind_udp(const ListenAddress& at, std::uint64_t receive_buffer_bytes,
                                    std::uint64_t& granted) {
  Fd fd(::socket(at.addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return sys_fail("socket", at);
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (receive_buffer_bytes > 0) {
    int want = receive_buffer_bytes > (1u << 30) ? (1 << 30) : static_cast<int>(receive_buffer_bytes);
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
  }
  int got = 0;
  socklen_t len = sizeof got;
  granted = ::getsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 ? static_cast<std::uint64_t>(got) : 0;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&at.addr), at.len) != 0) return sys_fail("bind", at);
  return fd;
}

std::string local_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "?";
  return format_address(reinterpret_cast<const sockaddr*>(&ss));
}

std::int64_t socket_drops(int fd) {
  std::uint32_t info[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, &len) != 0 || len <= SK_MEMINFO_DROPS * sizeof(std::uint32_t))
    return -1;
  return info[SK_MEMINFO_DROPS];
}

}  // namespace bifrost::inputs
