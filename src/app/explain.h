// `bifrost validate --explain`: a valid config as a person reads it: each
// pipeline's inputs, then its filters in order, then its outputs, each with
// its `when:`, and each output's delivery settings (batch, retry, buffer,
// failed queue) with the defaults filled in.
#pragma once

#include <string>

#include "config/model.h"

namespace bifrost::app {

std::string explain(const config::Config& cfg);

}  // namespace bifrost::app
