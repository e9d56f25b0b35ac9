#include "inputs/common/net_metrics.h"

#include <cstring>

namespace bifrost::inputs {

void ReasonCounts::add(const char* reason, std::uint64_t n) {
  for (std::size_t i = 0; i < kSlots; ++i) {
    const char* r = reasons_[i].load(std::memory_order_acquire);
    if (r == nullptr) {
      const char* expected = nullptr;
      if (reasons_[i].compare_exchange_strong(expected, reason, std::memory_order_acq_rel)) r = reason;
      else r = expected;
    }
    if (r == reason || std::strcmp(r, reason) == 0) {
      counts_[i].fetch_add(n, std::memory_order_relaxed);
      return;
    }
  }
  // Past the slots (a bug: reasons are a handful of static strings): the last slot.
  counts_[kSlots - 1].fetch_add(n, std::memory_order_relaxed);
}

std::uint64_t ReasonCounts::get(const char* reason) const {
  for (std::size_t i = 0; i < kSlots; ++i) {
    const char* r = reasons_[i].load(std::memory_order_acquire);
    if (r == nullptr) return 0;
    if (std::strcmp(r, reason) == 0) return counts_[i].load(std::memory_order_relaxed);
  }
  return 0;
}

void ReasonCounts::samples(const core::MetricFamily& family, std::vector<core::Series>& out) const {
  for (std::size_t i = 0; i < kSlots; ++i) {
    const char* r = reasons_[i].load(std::memory_order_acquire);
    if (r == nullptr) return;
    out.push_back({&family, {r}, static_cast<double>(counts_[i].load(std::memory_order_relaxed))});
  }
}

std::vector<core::Series> NetStats::samples(bool connections) const {
  std::vector<core::Series> out;
  if (connections) {
    out.push_back({&kConnectionsOpen, {}, static_cast<double>(open.load(std::memory_order_relaxed))});
    out.push_back({&kConnectionsAccepted, {}, static_cast<double>(accepted.load(std::memory_order_relaxed))});
    refused.samples(kConnectionsRefused, out);
    closed.samples(kConnectionsClosed, out);
  }
  out.push_back({&kReceivedBytes, {}, static_cast<double>(received_bytes.load(std::memory_order_relaxed))});
  parse_errors.samples(kParseErrors, out);
  return out;
}

}  // namespace bifrost::inputs
