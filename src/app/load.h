// Loading the config for a command: on errors, every one is printed to
// stderr (FILE:LINE:COL: ...) with a count, and nothing is returned.
#pragma once

#include <memory>
#include <string>

#include "config/model.h"
#include "pipeline/topology.h"

namespace bifrost::app {

std::unique_ptr<config::Config> load_or_print(const std::string& path);

// What the pipeline runtime builds pipeline `p` from; points into `p`,
// which must outlive it and the pipeline.
pipeline::Topology topology_of(const config::PipelineConfig& p, const config::Config& global);

}  // namespace bifrost::app
