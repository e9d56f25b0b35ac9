// The small file operations every durable store here needs (checkpoints,
// the failed queue, the disk buffer), written once.
#pragma once

#include <string>
#include <string_view>

namespace bifrost::delivery {

// Writes all of `data` (retrying short writes and EINTR). False on an error (errno set).
bool write_all(int fd, std::string_view data);

// fsyncs a directory, so a name created or renamed in it is durable too.
void fsync_dir(const std::string& dir);

}  // namespace bifrost::delivery
