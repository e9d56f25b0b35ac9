// What a Pipeline is built from: its components in order, with the specs
// that build them, their `when:` conditions and the outputs' delivery
// options. The app makes one from the config model (app/load.h); tests
// make one by hand. Non-owning: the specs and conditions outlive the
// pipeline built from them.
#pragma once

#include <string>
#include <vector>

#include "core/stats.h"
#include "delivery/options.h"
#include "expr/condition.h"
#include "pipeline/component.h"

namespace bifrost::pipeline {

struct InputNode {
  std::string id;
  std::string type;
  const InputSpec* spec = nullptr;
};

// A stage of the `filters:` list: a filter (spec) or a stateful stage (stateful).
struct FilterNode {
  std::string id;
  std::string type;
  const FilterSpec* spec = nullptr;
  const expr::Condition* when = nullptr;
  const StatefulStageSpec* stateful = nullptr;
};

struct OutputNode {
  std::string id;
  std::string type;
  const OutputSpec* spec = nullptr;
  const expr::Condition* when = nullptr;
  delivery::DeliveryOptions delivery;
};

struct Topology {
  std::string id;        // the pipeline's
  std::string data_dir;  // checkpoints/, failed/, buffers/ go under it
  std::vector<InputNode> inputs;
  std::vector<FilterNode> filters;
  std::vector<OutputNode> outputs;
};

}  // namespace bifrost::pipeline
