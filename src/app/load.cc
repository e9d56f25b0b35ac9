#include "app/load.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/secrets.h"

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

std::string check_files(const config::Config& cfg, std::vector<std::string>& warnings) {
  std::string errors;
  for (const config::FileRef& f : cfg.files) {
    const std::string where =
        f.loc.file + ":" + std::to_string(f.loc.line) + ":" + std::to_string(f.loc.col) + ": " + f.path + ": ";
    const int fd = ::open(f.file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
      errors += where + "cannot read " + f.file + ": " + std::strerror(errno) + "\n";
      continue;
    }
    ::close(fd);
    unsigned mode = 0;
    if (f.secret && core::secrets::readable_by_others(f.file, mode)) {
      char octal[8];
      std::snprintf(octal, sizeof octal, "%04o", mode);
      warnings.push_back(where + f.file + " holds a secret and every user may read it (mode " + octal +
                         "): make it readable by bifrost's user only (chmod 600)");
    }
  }
  return errors;
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
