#include "pipeline/stats.h"

namespace bifrost::pipeline {

void ComponentStats::add_dropped(std::string_view reason, std::uint64_t n) {
  std::lock_guard lock(mu_);
  for (auto& [r, c] : dropped_) {
    if (r == reason) {
      c += n;
      return;
    }
  }
  dropped_.emplace_back(std::string(reason), n);
}

std::vector<std::pair<std::string, std::uint64_t>> ComponentStats::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

std::uint64_t ComponentStats::dropped_total() const {
  std::lock_guard lock(mu_);
  std::uint64_t n = 0;
  for (const auto& [r, c] : dropped_) n += c;
  return n;
}

}  // namespace bifrost::pipeline
