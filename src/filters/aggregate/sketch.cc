#include "filters/aggregate/sketch.h"

#include <algorithm>
#include <cmath>

namespace bifrost::filters::aggregate {

namespace {

constexpr double kGamma = (1.0 + QuantileSketch::kRelativeError) / (1.0 - QuantileSketch::kRelativeError);
constexpr double kZero = 1e-9;
const double kLogGamma = std::log(kGamma);

}  // namespace

int QuantileSketch::index_of(double magnitude) { return static_cast<int>(std::ceil(std::log(magnitude) / kLogGamma)); }

double QuantileSketch::value_of(int index) { return 2.0 * std::exp(index * kLogGamma) / (kGamma + 1.0); }

void QuantileSketch::Store::add(int index) {
  ++total;
  if (counts.empty()) {
    counts.assign(1, 0);
    offset = index;
  }
  const int top = offset + static_cast<int>(counts.size()) - 1;
  const int hi = std::max(top, index);
  int lo = std::min(offset, index);
  if (hi - lo + 1 > kMaxBuckets) lo = hi - kMaxBuckets + 1;  // the lowest merge into lo
  index = std::max(index, lo);
  if (lo != offset || hi != top) {  // the range grows: rare once a window has seen its values
    std::vector<std::uint64_t> fresh(static_cast<std::size_t>(hi - lo + 1), 0);
    for (std::size_t k = 0; k < counts.size(); ++k) {
      fresh[static_cast<std::size_t>(std::max(offset + static_cast<int>(k), lo) - lo)] += counts[k];
    }
    counts.swap(fresh);
    offset = lo;
  }
  ++counts[static_cast<std::size_t>(index - offset)];
}

void QuantileSketch::add(double v) {
  if (std::isnan(v)) return;
  ++count_;
  if (v > kZero) {
    positive_.add(index_of(std::min(v, 1e300)));
  } else if (v < -kZero) {
    negative_.add(index_of(std::min(-v, 1e300)));
  } else {
    ++zeros_;
  }
}

double QuantileSketch::quantile(double q) const {
  if (count_ == 0) return 0.0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_ - 1));
  std::uint64_t seen = 0;
  // Negatives from the largest magnitude down, then zeros, then positives up.
  for (std::size_t k = negative_.counts.size(); k-- > 0;) {
    seen += negative_.counts[k];
    if (seen > rank) return -value_of(negative_.offset + static_cast<int>(k));
  }
  seen += zeros_;
  if (seen > rank) return 0.0;
  for (std::size_t k = 0; k < positive_.counts.size(); ++k) {
    seen += positive_.counts[k];
    if (seen > rank) return value_of(positive_.offset + static_cast<int>(k));
  }
  return positive_.counts.empty() ? 0.0 : value_of(positive_.offset + static_cast<int>(positive_.counts.size()) - 1);
}

std::size_t QuantileSketch::bytes() const {
  return sizeof(*this) + (positive_.counts.capacity() + negative_.counts.capacity()) * sizeof(std::uint64_t);
}

}  // namespace bifrost::filters::aggregate
