// Writing encoded events to a file descriptor, for outputs that write bytes.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/batch.h"
#include "pipeline/component.h"

namespace bifrost::outputs {

// Writes all of [data, data+n), retrying short writes and EINTR. Returns 0
// or the errno of the failure; `written` is how much did go out.
int write_all(int fd, const char* data, std::size_t n, std::size_t& written);

// Writes the encoded events [first, last) of `slot` with one write(2) where
// possible. Events whose bytes all went out are delivered; on an error the
// others are marked for retry with `what: strerror`. Returns the errno or 0.
int write_events(int fd, const core::OutputSlot& slot, std::size_t first, std::size_t last,
                 pipeline::DeliveryReport& report, std::string_view what);

}  // namespace bifrost::outputs
