// The source metadata line-based inputs put on events, in the Elastic Common
// Schema names: host.name, and a `log` object (log.offset, log.file.path).
#pragma once

#include <string>
#include <string_view>

#include "core/batch.h"

namespace bifrost::inputs {

// This machine's name (gethostname), or "localhost".
std::string host_name();

// The `host` object ({"name": host}) the events of a batch share: made
// once per batch, frozen (see core::Value).
core::Value host_object(core::Batch& batch, std::string_view host);

// Sets `host` and `log` on `e` (a fresh event or one with fields).
void set_host_and_log(core::Batch& batch, core::Event& e, core::Value host, core::Value log);

}  // namespace bifrost::inputs
