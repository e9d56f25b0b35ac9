// Loading the config for a command: on errors, every one is printed to
// stderr (FILE:LINE:COL: ...) with a count, and nothing is returned.
#pragma once

#include <memory>
#include <string>

#include "config/model.h"

namespace bifrost::app {

std::unique_ptr<config::Config> load_or_print(const std::string& path);

}  // namespace bifrost::app
