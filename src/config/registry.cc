#include "config/registry.h"

#include <algorithm>

namespace bifrost::config {

std::vector<const core::MetricFamily*> declared_metric_families(const Registry& r) {
  std::vector<const core::MetricFamily*> out;
  auto add = [&](const auto& types) {
    for (const auto& t : types) {
      for (const core::MetricFamily* f : t.metrics) {
        if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
      }
    }
  };
  add(r.inputs());
  add(r.filters());
  add(r.stages());
  add(r.outputs());
  return out;
}

}  // namespace bifrost::config
