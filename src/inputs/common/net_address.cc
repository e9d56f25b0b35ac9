#include "inputs/common/net_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace bifrost::inputs {

core::Result<ListenAddress, NetError> parse_listen(std::string_view text) {
  auto bad = [&](const char* why) {
    return core::fail(NetErrc::kBadAddress, "\"" + std::string(text) + "\": " + why +
                                                " (expected HOST:PORT, such as 127.0.0.1:5514 or [::1]:5514)");
  };
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad("no port");
  std::string_view host = text.substr(0, colon), port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    return bad("the port is not a number from 0 to 65535");
  ListenAddress a;
  a.text = std::string(text);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    std::string h(host.substr(1, host.size() - 2));
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&a.addr);
    if (inet_pton(AF_INET6, h.c_str(), &s6->sin6_addr) != 1) return bad("not an IPv6 address in brackets");
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(static_cast<std::uint16_t>(port));
    a.len = sizeof(sockaddr_in6);
    return a;
  }
  std::string h(host == "localhost" ? "127.0.0.1" : host);
  auto* s4 = reinterpret_cast<sockaddr_in*>(&a.addr);
  if (inet_pton(AF_INET, h.c_str(), &s4->sin_addr) != 1)
    return bad("the host is not an IPv4 address, [an IPv6 address] or localhost");
  s4->sin_family = AF_INET;
  s4->sin_port = htons(static_cast<std::uint16_t>(port));
  a.len = sizeof(sockaddr_in);
  return a;
}

std::string format_address(const sockaddr* sa) {
  PeerAddr p = PeerAddr::from(sa);
  char ip[64];
  std::size_t n = p.format_ip(ip);
  std::string out;
  if (p.family == 6) out.append("[").append(ip, n).append("]");
  else out.append(ip, n);
  return out + ":" + std::to_string(p.port);
}

PeerAddr PeerAddr::from(const sockaddr* sa) {
  PeerAddr p;
  if (sa == nullptr) return p;
  if (sa->sa_family == AF_INET) {
    const auto* s4 = reinterpret_cast<const sockaddr_in*>(sa);
    p.family = 4;
    p.port = ntohs(s4->sin_port);
    std::memcpy(p.ip, &s4->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(sa);
    p.port = ntohs(s6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
      p.family = 4;
      std::memcpy(p.ip, reinterpret_cast<const std::uint8_t*>(&s6->sin6_addr) + 12, 4);
    } else {
      p.family = 6;
      std::memcpy(p.ip, &s6->sin6_addr, 16);
    }
  }
  return p;
}

bool PeerAddr::operator==(const PeerAddr& o) const {
  return family == o.family && port == o.port && std::memcmp(ip, o.ip, sizeof ip) == 0;
}

std::size_t PeerAddr::format_ip(char* out) const {
  if (family == 0) {
    std::memcpy(out, "unknown", 7);
    return 7;
  }
  if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, ip, out, INET6_ADDRSTRLEN)) return 0;
  return std::strlen(out);
}

}  // namespace bifrost::inputs
