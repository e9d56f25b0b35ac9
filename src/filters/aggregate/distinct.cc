#include "filters/aggregate/distinct.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace bifrost::filters::aggregate {

namespace {

constexpr int kQ = 64 - DistinctCounter::kPrecision;  // bits left for the rank
constexpr std::uint64_t kEmpty = 0;

// Ertl's sigma and tau (section 4 of the paper): the corrections for
// registers still at 0 and registers at the maximum value.
double sigma(double x) {
  if (x == 1.0) return std::numeric_limits<double>::infinity();
  double y = 1.0, z = x, before;
  do {
    x *= x;
    before = z;
    z += x * y;
    y += y;
  } while (z != before);
  return z;
}

double tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0, z = 1.0 - x, before;
  do {
    x = std::sqrt(x);
    before = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
  } while (z != before);
  return z / 3.0;
}

}  // namespace

void DistinctCounter::add(std::uint64_t hash) {
  if (registers_) return add_register(hash);
  if (hash == kEmpty) hash = 1;
  if (set_cap_ > 0) {
    const std::size_t mask = set_cap_ - 1;
    for (std::size_t i = hash & mask; set_[i] != kEmpty; i = (i + 1) & mask) {
      if (set_[i] == hash) return;  // seen
    }
  }
  if ((set_n_ + 1) * 2 > set_cap_) {
    if (set_n_ + 1 > kExactLimit) {
      to_registers();
      return add_register(hash);
    }
    grow_exact();
  }
  const std::size_t mask = set_cap_ - 1;
  std::size_t i = hash & mask;
  while (set_[i] != kEmpty) i = (i + 1) & mask;
  set_[i] = hash;
  ++set_n_;
}

void DistinctCounter::grow_exact() {
  const std::size_t cap = set_cap_ ? set_cap_ * 2 : 16;
  auto fresh = std::make_unique<std::uint64_t[]>(cap);  // zeroed: empty
  const std::size_t mask = cap - 1;
  for (std::size_t k = 0; k < set_cap_; ++k) {
    const std::uint64_t h = set_[k];
    if (h == kEmpty) continue;
    std::size_t i = h & mask;
    while (fresh[i] != kEmpty) i = (i + 1) & mask;
    fresh[i] = h;
  }
  set_ = std::move(fresh);
  set_cap_ = cap;
}

void DistinctCounter::to_registers() {
  registers_ = std::make_unique<std::uint8_t[]>(kRegisters);  // zeroed
  for (std::size_t k = 0; k < set_cap_; ++k) {
    if (set_[k] != kEmpty) add_register(set_[k]);
  }
  set_.reset();
  set_cap_ = set_n_ = 0;
}

// The top p bits pick the register; the rank is one more than the leading
// zeros of the other 64 - p bits (kQ + 1 when they are all zero).
void DistinctCounter::add_register(std::uint64_t hash) {
  const std::size_t index = hash >> kQ;
  const std::uint64_t rest = hash << kPrecision;
  const auto rank = static_cast<std::uint8_t>(rest == 0 ? kQ + 1 : std::countl_zero(rest) + 1);
  std::uint8_t& r = registers_[index];
  if (rank > r) r = rank;
}

std::uint64_t DistinctCounter::estimate() const {
  if (!registers_) return set_n_;
  std::array<std::uint32_t, kQ + 2> counts{};
  for (std::size_t i = 0; i < kRegisters; ++i) ++counts[registers_[i]];
  const double m = static_cast<double>(kRegisters);
  double z = m * tau(1.0 - counts[kQ + 1] / m);
  for (int k = kQ; k >= 1; --k) z = 0.5 * (z + counts[static_cast<std::size_t>(k)]);
  z += m * sigma(counts[0] / m);
  const double alpha_inf = 0.5 / std::log(2.0);
  return static_cast<std::uint64_t>(std::llround(alpha_inf * m * m / z));
}

std::size_t DistinctCounter::bytes() const {
  return sizeof(*this) + (registers_ ? kRegisters : set_cap_ * sizeof(std::uint64_t));
}

}  // namespace bifrost::filters::aggregate
