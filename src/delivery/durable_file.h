// The small file operations every durable store here needs (checkpoints,
// the failed queue, the disk buffer), written once; writing is
// core::write_all (core/io.h).
#pragma once

#include <string>

#include "core/io.h"

namespace bifrost::delivery {

// fsyncs a directory, so a name created or renamed in it is durable too.
void fsync_dir(const std::string& dir);

}  // namespace bifrost::delivery
