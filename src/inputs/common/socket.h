// Listening sockets of the network inputs, opened when the input is built
// (bifrost run), never while a config is validated.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"
#include "inputs/common/net_address.h"

namespace bifrost::inputs {

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// A non-blocking TCP socket listening on `at` (SO_REUSEADDR, so a restart
// or a reload binds again at once).
core::Result<Fd, NetError> listen_tcp(const ListenAddress& at, int backlog = 511);

// A non-blocking UDP socket bound to `at`. `receive_buffer_bytes` (0: the
// system's default) is asked for with SO_RCVBUFFORCE, which root may use
// past net.core.rmem_max, then SO_RCVBUF; `granted` is what the kernel
// gave (it reports twice the usable size).
core::Result<Fd, NetError> bind_udp(const ListenAddress& at, std::uint64_t receive_buffer_bytes,
                                    std::uint64_t& granted);

// The address a socket is bound to ("127.0.0.1:40123"): what port 0 became.
std::string local_address(int fd);

// Datagrams the kernel dropped on this socket since it was opened (its
// receive buffer was full): SO_MEMINFO's drop count, the counter that
// SO_RXQ_OVFL and /proc/net/udp's `drops` column report. -1 when unknown.
std::int64_t socket_drops(int fd);

}  // namespace bifrost::inputs
