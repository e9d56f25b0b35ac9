#include "pipeline/component.h"

#include <cstdint>

namespace bifrost::pipeline {

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
