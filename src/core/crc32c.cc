#include "core/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace bifrost::core {

namespace {

constexpr std::uint32_t kPolynomial = 0x82F63B78;  // reflected 0x1EDC6F41

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = c & 1 ? (c >> 1) ^ kPolynomial : c >> 1;
    t[i] = c;
  }
  return t;
}

constexpr std::array<std::uint32_t, 256> kTable = make_table();

}  // namespace

std::uint32_t crc32c_table(std::string_view bytes) {
  std::uint32_t c = ~0u;
  for (char ch : bytes) c = kTable[(c ^ static_cast<std::uint8_t>(ch)) & 0xff] ^ (c >> 8);
  return ~c;
}

#if defined(__x86_64__)
bool crc32c_hardware_available() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}

__attribute__((target("sse4.2"))) std::uint32_t crc32c_hardware(std::string_view bytes) {
  const char* p = bytes.data();
  std::size_t n = bytes.size();
  std::uint64_t c = ~0u;
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
  }
  auto c32 = static_cast<std::uint32_t>(c);
  for (; n > 0; ++p, --n) c32 = _mm_crc32_u8(c32, static_cast<std::uint8_t>(*p));
  return ~c32;
}
#else
bool crc32c_hardware_available() { return false; }
std::uint32_t crc32c_hardware(std::string_view bytes) { return crc32c_table(bytes); }
#endif

std::uint32_t crc32c(std::string_view bytes) {
  return crc32c_hardware_available() ? crc32c_hardware(bytes) : crc32c_table(bytes);
}

}  // namespace bifrost::core
