// Fast non-cryptographic hashing for the stateful stages: group lookups
// (aggregate), HyperLogLog registers, dedupe keys and Bloom filter bits.
// A multiply-and-fold construction over 64-bit words (128-bit products),
// written here: every output bit depends on every input bit, which the
// HyperLogLog estimate and the Bloom filter's rate rely on (their unit tests
// measure both).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace bifrost::filters {

namespace hash_detail {
inline constexpr std::uint64_t kP0 = 0x9e3779b97f4a7c15ull;
inline constexpr std::uint64_t kP1 = 0xd6e8feb86659fd93ull;
inline constexpr std::uint64_t kP2 = 0xa0761d6478bd642full;
inline constexpr std::uint64_t kP3 = 0xe7037ed1a0b428dbull;

// The two halves of a*b folded into one word.
inline std::uint64_t fold(std::uint64_t a, std::uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}
inline std::uint64_t load64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline std::uint64_t load32(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
}  // namespace hash_detail

// 64-bit hash of `bytes`; another `seed` gives an independent hash.
inline std::uint64_t hash64(std::string_view bytes, std::uint64_t seed = 0) {
  using namespace hash_detail;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  std::uint64_t h = fold(seed ^ kP0, kP1 ^ n);
  while (n > 16) {
    h = fold(load64(p) ^ kP2, load64(p + 8) ^ h);
    p += 16;
    n -= 16;
  }
  std::uint64_t a = 0, b = 0;
  if (n >= 8) {
    a = load64(p);
    b = load64(p + n - 8);
  } else if (n >= 4) {
    a = load32(p);
    b = load32(p + n - 4);
  } else if (n > 0) {
    a = (std::uint64_t{p[0]} << 16) | (std::uint64_t{p[n / 2]} << 8) | p[n - 1];
  }
  h = fold(a ^ kP3 ^ h, b ^ kP1);
  return fold(h ^ kP0, h ^ kP2 ^ bytes.size());
}

// Mixes one 64-bit value into a well-spread 64-bit hash.
inline std::uint64_t hash_int(std::uint64_t v, std::uint64_t seed = 0) {
  using namespace hash_detail;
  return fold(fold(v ^ kP0 ^ seed, kP1), kP2 ^ v);
}

struct Hash128 {
  std::uint64_t hi = 0, lo = 0;
  bool operator==(const Hash128&) const = default;
};

// Two independent 64-bit hashes: dedupe keys (compared by all 128 bits)
// and the Bloom filter's double hashing.
inline Hash128 hash128(std::string_view bytes) { return {hash64(bytes, 0x5bd1e995u), hash64(bytes, 0x1b873593u)}; }

}  // namespace bifrost::filters
