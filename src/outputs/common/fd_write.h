// Writing encoded events to a file descriptor, for outputs that write bytes
// (core::write_all, plus uncached writes and per-event outcomes).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string_view>

#include "core/batch.h"
#include "core/io.h"
#include "pipeline/component.h"

namespace bifrost::outputs {

// Uncached writes to a regular file opened with O_APPEND: the whole pages of
// a large write go with RWF_DONTCACHE (Linux 6.14+, on ext4, xfs, btrfs and
// others): the kernel starts their writeback at once and drops them from the
// page cache when it is done. The last, partial page goes plainly and stays
// cached, so the next write, which begins in it, does not read it back from
// the disk.
struct UncachedWrites {
  static constexpr std::size_t kMinBytes = 16 << 10;  // smaller parts go plainly
  bool supported = true;                              // cleared for good when the kernel or the file system refuses
  off_t start = 0;  // where the next write begins (the file's end), kept by the caller
};

// As core::write_all, uncached where `uncached` says so (see above); the
// bytes written are the same either way. `written` is how much went out.
core::SysResult<void> write_all(int fd, std::string_view data, std::size_t& written, UncachedWrites& uncached);

// Writes the encoded events [first, last) of `slot` with one write(2) where
// possible (two with `uncached`). Events whose bytes all went out are
// delivered; on an error the others are marked for retry with `what:
// strerror`, and the error is returned.
core::SysResult<void> write_events(int fd, const core::OutputSlot& slot, std::size_t first, std::size_t last,
                                   pipeline::DeliveryReport& report, std::string_view what,
                                   UncachedWrites* uncached = nullptr);

}  // namespace bifrost::outputs
