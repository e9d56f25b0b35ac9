// `percentile`: a quantile sketch with a relative error bound, in the
// manner of DDSketch (Masson, Rim, Lee, VLDB 2019), written here.
//
// A value v > 0 is counted in bucket i = ceil(log_g(v)), g = (1 + a) / (1 - a),
// which holds (g^(i-1), g^i]; the bucket answers 2 g^i / (g + 1), within a
// relative error a = kRelativeError (1%) of every value in it. A quantile q
// is the value of rank floor(q * (n - 1)) (0-based, in sorted order), so
// the answer is within 1% of that value. Negative values are counted
// likewise by magnitude, values within 1e-9 of 0 as 0. At most kMaxBuckets
// buckets per sign (8 bytes each): past that the lowest ones are merged
// (their quantiles lose the bound, which takes values over more than 40
// decades, about 1e-9 to 1e31, at 1%).
#pragma once

#include <cstdint>
#include <vector>

namespace bifrost::filters::aggregate {

class QuantileSketch {
 public:
  static constexpr double kRelativeError = 0.01;
  static constexpr int kMaxBuckets = 4096;

  void add(double v);
  // The q-quantile (0 <= q <= 1); 0 when empty.
  double quantile(double q) const;
  std::uint64_t count() const { return count_; }
  std::size_t bytes() const;

 private:
  // Counts of buckets [offset, offset + counts.size()).
  struct Store {
    std::vector<std::uint64_t> counts;
    int offset = 0;
    std::uint64_t total = 0;
    void add(int index);
  };
  static int index_of(double magnitude);
  static double value_of(int index);

  Store positive_, negative_;
  std::uint64_t zeros_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace bifrost::filters::aggregate
