// What runs between two reloads: a config and the pipelines built from it.
// Shared (shared_ptr) with the API, which reads its stats while it runs.
#pragma once

#include <memory>
#include <vector>

#include "config/model.h"
#include "pipeline/pipeline.h"

namespace bifrost::pipeline {

struct Runtime {
  std::unique_ptr<config::Config> config;
  std::vector<std::unique_ptr<Pipeline>> pipelines;
  ~Runtime() { pipelines.clear(); }  // before the config they point into

  Pipeline* find(const std::string& id) const {
    for (const auto& p : pipelines) {
      if (p->id() == id) return p.get();
    }
    return nullptr;
  }
};

}  // namespace bifrost::pipeline
