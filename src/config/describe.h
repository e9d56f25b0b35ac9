// What the config's keys are, from the very readers the loader runs (run
// over nothing, a MapReader lists the options it asks for): for `bifrost
// describe`, `bifrost schema` and `bifrost validate --explain`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/reader.h"
#include "config/registry.h"
#include "delivery/options.h"
#include "expr/condition.h"

namespace bifrost::config {

// The keys every component has, read before its type's own: id, type (one
// of `type_names`), when (when `has_when`), and an output's delivery
// sections (retry, failed_queue, buffer).
struct CommonKeys {
  std::optional<Node> id, type;
  std::optional<expr::Condition> when;
  delivery::DeliveryOptions delivery;
};
CommonKeys read_common_keys(MapReader& r, const std::string& kind, const std::vector<std::string>& type_names,
                            bool has_when);

// A kind of component as a config lists them.
struct KindInfo {
  std::string kind;  // input, filter, output
  std::string list;  // the key of their list in a pipeline: inputs, filters, outputs
  bool has_when;
};
const std::vector<KindInfo>& component_kinds();

// The type names a kind's list takes: `filters:` takes the filters and the
// stateful stages.
std::vector<std::string> type_names_of(const KindInfo& kind, const Registry& registry);

// A component type's options as `bifrost describe` lists them: the keys
// every component of its kind has, then its own.
// `type_names`: every type its list takes (type_names_of).
template <class Spec>
std::vector<OptionDoc> describe_component(const KindInfo& kind, const std::vector<std::string>& type_names,
                                          const ComponentType<Spec>& type) {
  std::vector<OptionDoc> docs;
  Diagnostics ignored;
  Context ctx{&ignored, process_env()};
  Node none(YAML::Node(), nullptr, "", &ctx);
  MapReader r(none, &docs);
  read_common_keys(r, kind.kind, type_names, kind.has_when);
  type.parse(r);
  return docs;
}

// The options of the config itself.
struct ConfigDocs {
  std::vector<OptionDoc> globals;   // data_dir, api, log, shutdown_timeout
  std::vector<OptionDoc> top;       // pipelines, inputs, filters, outputs, tests
  std::vector<OptionDoc> pipeline;  // one pipeline of `pipelines:`
  std::vector<OptionDoc> test;      // one test of `tests:`
};
ConfigDocs describe_config();

}  // namespace bifrost::config
