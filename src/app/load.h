// Loading the config for a command: on errors, every one is printed to
// stderr (FILE:LINE:COL: ...) with a count, and nothing is returned.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "pipeline/topology.h"

namespace bifrost::app {

std::unique_ptr<config::Config> load_or_print(const std::string& path);

// Checks every file the config names for reading at start (certificates,
// keys, secret files: config::FileRef). Returns the errors, one located
// line each ("FILE:LINE:COL: PATH: cannot read F: why"), or "" when every
// file can be read; `warnings` gets a located line for each secret file
// that users other than its owner and group may read.
std::string check_files(const config::Config& cfg, std::vector<std::string>& warnings);

// What the pipeline runtime builds pipeline `p` from; points into `p`,
// which must outlive it and the pipeline.
pipeline::Topology topology_of(const config::PipelineConfig& p, const config::Config& global);

}  // namespace bifrost::app
