// `count_distinct`: how many distinct values a group saw, in at most 16 KiB.
//
// Up to kExactLimit distinct values it keeps their 64-bit hashes and the
// count is exact (but for a hash collision, odds about n^2/2^65). Past that
// it becomes a HyperLogLog of precision p = 14: 2^14 one-byte registers
// (16 KiB), a relative standard error of 1.04/sqrt(2^14) = 0.81% at any
// cardinality (about 2.4% at three standard errors), read with Ertl's
// improved raw estimator ("New cardinality estimation algorithms for
// HyperLogLog sketches", 2017), which needs no bias tables from small to
// very large counts.
#pragma once

#include <cstdint>
#include <memory>

namespace bifrost::filters::aggregate {

class DistinctCounter {
 public:
  static constexpr int kPrecision = 14;
  static constexpr std::size_t kRegisters = std::size_t{1} << kPrecision;
  static constexpr std::size_t kExactLimit = 1024;
  static constexpr double kStandardError = 0.0081;  // 1.04 / sqrt(kRegisters)

  // `hash`: a well-spread 64-bit hash of the value (filters/common/hash.h).
  void add(std::uint64_t hash);
  std::uint64_t estimate() const;
  // Memory it holds, in bytes (at most 16 KiB).
  std::size_t bytes() const;
  bool exact() const { return !registers_; }

 private:
  void to_registers();
  void add_register(std::uint64_t hash);
  void grow_exact();

  // Exact mode: an open-addressing set of hashes (0 stands for empty; a
  // hash of 0 is stored as 1), at most half full.
  std::unique_ptr<std::uint64_t[]> set_;
  std::size_t set_cap_ = 0;
  std::size_t set_n_ = 0;
  std::unique_ptr<std::uint8_t[]> registers_;
};

}  // namespace bifrost::filters::aggregate
