// The source metadata line-based inputs put on events, in the Elastic Common
// Schema names: host.name, and a `log` object (log.offset, log.file.path).
#pragma once

#include <string>
#include <string_view>

#include "core/batch.h"

namespace bifrost::inputs {

// This machine's name (gethostname), or "localhost".
std::string host_name();

// Sets `host.name` and `log` on `e` (a fresh event or one with fields).
void set_host_and_log(core::Batch& batch, core::Event& e, std::string_view host, core::Value log);

}  // namespace bifrost::inputs
