// The component types bifrost knows, by kind and name. Filled in one place,
// src/components.cc; looked up by the config loader.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/reader.h"
#include "core/stats.h"
#include "pipeline/component.h"

namespace bifrost::config {

template <class Spec>
struct ComponentType {
  using Parse = std::unique_ptr<Spec> (*)(MapReader& reader);
  std::string name;
  std::string summary;
  Parse parse;
  bool requires_when = false;  // a filter whose meaning is its `when:` (drop)
  // The type's own metric families (beyond every component's), shown on
  // /metrics; its components publish their samples in their SeriesSet.
  std::vector<const core::MetricFamily*> metrics = {};
};

class Registry {
 public:
  void add_input(ComponentType<pipeline::InputSpec> t) { inputs_.push_back(std::move(t)); }
  void add_filter(ComponentType<pipeline::FilterSpec> t) { filters_.push_back(std::move(t)); }
  // A stateful stage (pipeline/component.h), written in `filters:` like a filter.
  void add_stage(ComponentType<pipeline::StatefulStageSpec> t) { stages_.push_back(std::move(t)); }
  void add_output(ComponentType<pipeline::OutputSpec> t) { outputs_.push_back(std::move(t)); }

  const std::vector<ComponentType<pipeline::InputSpec>>& inputs() const { return inputs_; }
  const std::vector<ComponentType<pipeline::FilterSpec>>& filters() const { return filters_; }
  const std::vector<ComponentType<pipeline::StatefulStageSpec>>& stages() const { return stages_; }
  const std::vector<ComponentType<pipeline::OutputSpec>>& outputs() const { return outputs_; }

 private:
  std::vector<ComponentType<pipeline::InputSpec>> inputs_;
  std::vector<ComponentType<pipeline::FilterSpec>> filters_;
  std::vector<ComponentType<pipeline::StatefulStageSpec>> stages_;
  std::vector<ComponentType<pipeline::OutputSpec>> outputs_;
};

// Every built-in component; defined in src/components.cc.
const Registry& components();

// The metric families the registered types declare, each once, in
// registration order.
std::vector<const core::MetricFamily*> declared_metric_families(const Registry& r);

}  // namespace bifrost::config
