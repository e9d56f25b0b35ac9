#include "app/load.h"

#include <cstdio>

namespace bifrost::app {

std::unique_ptr<config::Config> load_or_print(const std::string& path) {
  config::Diagnostics diag;
  auto cfg = config::load(path, diag);
  std::fputs(diag.render_warnings().c_str(), stderr);
  if (!cfg) {
    std::fputs(diag.render().c_str(), stderr);
    std::fprintf(stderr, "%zu error(s) in %s\n", diag.items().size(), path.c_str());
  }
  return cfg;
}

pipeline::Topology topology_of(const config::PipelineConfig& p, const config::Config& global) {
  pipeline::Topology t;
  t.id = p.id;
  t.data_dir = global.data_dir;
  for (const auto& c : p.inputs) t.inputs.push_back({c.id, c.type, c.spec.get()});
  for (const auto& c : p.filters) {
    t.filters.push_back({c.id, c.type, c.spec.get(), c.when ? &*c.when : nullptr, c.stage.get()});
  }
  for (const auto& c : p.outputs) {
    t.outputs.push_back({c.id, c.type, c.spec.get(), c.when ? &*c.when : nullptr, c.delivery});
  }
  return t;
}

}  // namespace bifrost::app
