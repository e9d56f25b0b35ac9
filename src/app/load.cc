#include "app/load.h"

#include <cstdio>

namespace bifrost::app {

std::unique_ptr<config::Config> load_or_print(const std::string& path) {
  config::Diagnostics diag;
  auto cfg = config::load(path, diag);
  if (!cfg) {
    std::fputs(diag.render().c_str(), stderr);
    std::fprintf(stderr, "%zu error(s) in %s\n", diag.items().size(), path.c_str());
  }
  return cfg;
}

}  // namespace bifrost::app
