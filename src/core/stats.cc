#include "core/stats.h"

#include <cstring>

namespace bifrost::core {

void Histogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

void ComponentStats::add_dropped(const char* reason, std::uint64_t n) {
  for (std::size_t i = 0; i < kReasonSlots; ++i) {
    const char* cur = reasons_[i].load(std::memory_order_acquire);
    if (cur == nullptr) {
      const char* expected = nullptr;
      if (reasons_[i].compare_exchange_strong(expected, reason, std::memory_order_acq_rel)) cur = reason;
      else cur = expected;
    }
    if (cur == reason || std::strcmp(cur, reason) == 0) {
      reason_counts_[i].add(n);
      return;
    }
  }
  other_reasons_.add(n);
}

std::vector<std::pair<std::string, std::uint64_t>> ComponentStats::dropped() const {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (std::size_t i = 0; i < kReasonSlots; ++i) {
    const char* r = reasons_[i].load(std::memory_order_acquire);
    if (r == nullptr) break;
    out.emplace_back(r, reason_counts_[i].load());
  }
  if (std::uint64_t o = other_reasons_.load()) out.emplace_back("other", o);
  return out;
}

std::uint64_t ComponentStats::dropped_total() const {
  std::uint64_t n = 0;
  for (const auto& [r, c] : dropped()) n += c;
  return n;
}

}  // namespace bifrost::core
