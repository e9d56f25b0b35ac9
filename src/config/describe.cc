#include "config/describe.h"

#include "config/delivery_reader.h"
#include "config/expr_reader.h"

namespace bifrost::config {

CommonKeys read_common_keys(MapReader& r, const std::string& kind, const std::vector<std::string>& type_names,
                            bool has_when) {
  CommonKeys k;
  k.id = r.get("id", "string", "", "unique name of the component within its pipeline", true);
  k.type = r.get("type", "string", "", "the kind of " + kind, true);
  if (r.describing()) r.documented().back().choices = type_names;
  if (has_when) {
    k.when = read_condition(r, "when",
                            kind == "output" ? "only events for which this holds go to this output"
                                             : "apply this stage only to events for which this holds");
  }
  if (kind == "output") k.delivery = read_delivery(r);
  return k;
}

const std::vector<KindInfo>& component_kinds() {
  static const std::vector<KindInfo> kinds = {
      {"input", "inputs", false}, {"filter", "filters", true}, {"output", "outputs", true}};
  return kinds;
}

std::vector<std::string> type_names_of(const KindInfo& kind, const Registry& registry) {
  std::vector<std::string> names;
  auto add = [&](const auto& types) {
    for (const auto& t : types) names.push_back(t.name);
  };
  if (kind.kind == "input") add(registry.inputs());
  if (kind.kind == "filter") {
    add(registry.filters());
    add(registry.stages());
  }
  if (kind.kind == "output") add(registry.outputs());
  return names;
}

}  // namespace bifrost::config
