// Listening addresses of the network inputs (`listen: HOST:PORT`) and the
// peers they hear from.
//
// HOST is an IPv4 address, an IPv6 address in brackets, or `localhost`
// (127.0.0.1); no name is looked up, so a config means the same on every
// machine and parsing stays pure. PORT 0 asks the kernel for a free port
// (the input logs the one it got).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace bifrost::inputs {

enum class NetErrc : std::uint8_t {
  kBadAddress,  // not HOST:PORT
  kSocket,      // socket, bind or listen failed (the message says which and why)
  kTls,         // a certificate, key or CA file could not be loaded
};
using NetError = core::Error<NetErrc>;

struct ListenAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // as written
};

// "127.0.0.1:5514", "[::1]:5514", "0.0.0.0:514", "localhost:8080".
core::Result<ListenAddress, NetError> parse_listen(std::string_view text);

// "1.2.3.4:5" / "[::1]:5" of a socket address.
std::string format_address(const sockaddr* sa);

// A peer as the network inputs keep it: 19 bytes, copied without allocation.
// IPv4-mapped IPv6 addresses are kept as IPv4.
struct PeerAddr {
  std::uint8_t family = 0;  // 4 or 6; 0: unknown
  std::uint16_t port = 0;
  std::uint8_t ip[16] = {};
  static PeerAddr from(const sockaddr* sa);
  bool operator==(const PeerAddr& o) const;
  // The address as text ("10.0.0.1", "fe80::1") into `out` (at least 46 bytes); its length.
  std::size_t format_ip(char* out) const;
};

}  // namespace bifrost::inputs
