#include "filters/dedupe/sliced_bloom.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace bifrost::filters::dedupe {

namespace {

// Maps a 64-bit hash onto [0, n) without a division.
std::uint64_t reduce(std::uint64_t h, std::uint64_t n) {
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(h) * n) >> 64);
}

}  // namespace

std::uint64_t SlicedBloom::bits_per_slice(std::uint64_t max_keys, double rate) {
  const double n = std::ceil(static_cast<double>(max_keys) / (kSlices - 1));
  const double p = rate / kSlices;
  return std::max<std::uint64_t>(64, static_cast<std::uint64_t>(std::ceil(n * std::log(1.0 / p) / (M_LN2 * M_LN2))));
}

SlicedBloom::SlicedBloom(std::uint64_t max_keys, double rate, std::int64_t window_ns)
    : per_slice_((max_keys + kSlices - 2) / (kSlices - 1)),
      bits_(bits_per_slice(max_keys, rate)),
      words_((bits_ + 63) / 64),
      k_(std::clamp(static_cast<int>(std::lround(std::log2(kSlices / rate))), 1, 30)),
      span_ns_(std::max<std::int64_t>(1, window_ns / (kSlices - 1))) {
  for (Slice& s : slices_) s.words.assign(words_, 0);
}

bool SlicedBloom::contains(const Hash128& h) const {
  for (const Slice& s : slices_) {
    if (s.count == 0) continue;
    bool all = true;
    std::uint64_t x = h.hi;
    for (int i = 0; i < k_ && all; ++i, x += h.lo) {
      const std::uint64_t bit = reduce(x, bits_);
      all = (s.words[bit >> 6] >> (bit & 63)) & 1;
    }
    if (all) return true;
  }
  return false;
}

void SlicedBloom::insert(const Hash128& h, std::int64_t t_ns) {
  Slice* s = &slices_[newest_];
  if (s->count >= per_slice_ || (s->start_ns != INT64_MIN && t_ns - s->start_ns >= span_ns_)) {
    rotate(t_ns);
    s = &slices_[newest_];
  }
  if (s->start_ns == INT64_MIN) s->start_ns = t_ns;
  std::uint64_t x = h.hi;
  for (int i = 0; i < k_; ++i, x += h.lo) {
    const std::uint64_t bit = reduce(x, bits_);
    s->words[bit >> 6] |= std::uint64_t{1} << (bit & 63);
  }
  ++s->count;
}

void SlicedBloom::rotate(std::int64_t t_ns) {
  newest_ = (newest_ + 1) % kSlices;
  Slice& s = slices_[newest_];
  std::fill(s.words.begin(), s.words.end(), 0);
  s.count = 0;
  s.start_ns = t_ns;
}

std::uint64_t SlicedBloom::keys() const {
  std::uint64_t n = 0;
  for (const Slice& s : slices_) n += s.count;
  return n;
}

void SlicedBloom::encode(StateWriter& w) const {
  w.u64(bits_);
  w.u64(static_cast<std::uint64_t>(k_));
  w.u64(static_cast<std::uint64_t>(newest_));
  for (const Slice& s : slices_) {
    w.u64(s.count);
    w.i64(s.start_ns);
    w.bytes_in_place({reinterpret_cast<const char*>(s.words.data()), s.words.size() * sizeof(std::uint64_t)});
  }
}

// A state made with another max_keys or rate does not fit: not loaded. Read
// into the slices in place (no second copy of the filter): on false the
// caller starts a fresh one.
bool SlicedBloom::decode(StateReader& r) {
  if (r.u64() != bits_ || r.u64() != static_cast<std::uint64_t>(k_)) return false;
  const std::uint64_t newest = r.u64();
  if (!r.ok() || newest >= kSlices) return false;
  for (Slice& s : slices_) {
    s.count = r.u64();
    s.start_ns = r.i64();
    std::string_view b = r.bytes();
    if (!r.ok() || b.size() != words_ * sizeof(std::uint64_t)) return false;
    std::memcpy(s.words.data(), b.data(), b.size());
  }
  newest_ = static_cast<int>(newest);
  return true;
}

}  // namespace bifrost::filters::dedupe
