// What runs between two reloads: the pipelines. The app keeps what they
// were built from beside them (a derived Runtime, app/daemon.cc), destroyed
// after them. Shared (shared_ptr) with the API, which reads their stats
// while they run.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pipeline/pipeline.h"

namespace bifrost::pipeline {

struct Runtime {
  std::vector<std::unique_ptr<Pipeline>> pipelines;
  virtual ~Runtime() = default;

  Pipeline* find(const std::string& id) const {
    for (const auto& p : pipelines) {
      if (p->id() == id) return p.get();
    }
    return nullptr;
  }
};

}  // namespace bifrost::pipeline
