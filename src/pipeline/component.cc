#include "pipeline/component.h"

#include <cstdint>

namespace bifrost::pipeline {

void select_events(const core::Batch& batch, const expr::Condition* when, std::vector<std::uint32_t>& selected) {
  selected.clear();
  const auto n = static_cast<std::uint32_t>(batch.events.size());
  for (std::uint32_t i = 0; i < n; ++i) {
    const core::Event& e = batch.events[i];
    if (!e.dropped() && (!when || when->evaluate(e))) selected.push_back(i);
  }
}

void run_filter_stage(const Filter& filter, const expr::Condition* when, core::Batch& batch,
                      std::vector<std::uint32_t>& selected) {
  select_events(batch, when, selected);
  if (!selected.empty()) filter.process(batch, selected);
}

void DeliveryReport::set(std::size_t i, Outcome o, std::string_view reason) {
  outcomes_[i] = o;
  if (o != Outcome::kDelivered) reasons_.emplace_back(i, std::string(reason));
}

std::string_view DeliveryReport::reason(std::size_t i) const {
  for (auto it = reasons_.rbegin(); it != reasons_.rend(); ++it) {
    if (it->first == i) return it->second;
  }
  return {};
}

std::size_t DeliveryReport::count(Outcome o) const {
  std::size_t n = 0;
  for (Outcome x : outcomes_) n += x == o;
  return n;
}

}  // namespace bifrost::pipeline
