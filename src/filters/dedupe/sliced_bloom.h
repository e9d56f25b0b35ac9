// `mode: bloom`: a time-sliced Bloom filter. kSlices filters, each for
// max_keys / (kSlices - 1) keys at a false positive rate of
// rate / kSlices, so that the kSlices - 1 newest full ones and the one
// being filled answer "seen" for a new key with probability at most
// `rate`. New keys go into the newest slice; when it has held its keys, or
// window / (kSlices - 1) of event time has passed, the oldest slice is
// cleared and becomes the newest. So a key is remembered for at least
// `window` (unless more than max_keys keys come within it: then the oldest
// go first), and its memory is fixed:
//   bits = kSlices * ceil(n * ln(1/p) / ln(2)^2),  n = ceil(max_keys / (kSlices - 1)), p = rate / kSlices
// about 16.6 bits a key at 1% (20.8 MB for 10 million keys).
#pragma once

#include <cstdint>
#include <vector>

#include "filters/common/hash.h"
#include "filters/common/stage_state.h"

namespace bifrost::filters::dedupe {

class SlicedBloom {
 public:
  static constexpr int kSlices = 4;

  SlicedBloom(std::uint64_t max_keys, double rate, std::int64_t window_ns);

  bool contains(const Hash128& h) const;
  // Adds `h` (not contained) seen at event time `t_ns`.
  void insert(const Hash128& h, std::int64_t t_ns);
  // Keys in the slices now (a key seen in two slices counts twice).
  std::uint64_t keys() const;
  // The filters' memory, in bytes: what the formula above says.
  std::size_t bytes() const { return static_cast<std::size_t>(kSlices) * words_ * sizeof(std::uint64_t); }
  static std::uint64_t bits_per_slice(std::uint64_t max_keys, double rate);
  int hashes() const { return k_; }

  void encode(StateWriter& w) const;
  bool decode(StateReader& r);

 private:
  struct Slice {
    std::vector<std::uint64_t> words;
    std::uint64_t count = 0;
    std::int64_t start_ns = INT64_MIN;  // event time it began
  };
  void rotate(std::int64_t t_ns);

  std::uint64_t per_slice_;  // keys a slice takes
  std::uint64_t bits_;       // per slice
  std::size_t words_;
  int k_;
  std::int64_t span_ns_;
  Slice slices_[kSlices];
  int newest_ = 0;
};

}  // namespace bifrost::filters::dedupe
