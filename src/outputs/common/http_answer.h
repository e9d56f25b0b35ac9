// What the outputs that speak HTTP share: which failed statuses are worth
// trying again and the reason recorded for the others, secrets from files,
// and the batch limits of a request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/node.h"

namespace bifrost::outputs {

// 408, 429 and 5xx: the server may take the same request later.
inline bool transient_status(long status) { return status == 408 || status == 429 || status >= 500; }

// "HTTP <status>: <the first 300 bytes of the body, on one line>".
std::string http_failure(long status, std::string_view body);

// A secret given inline, or read from `file` (a trailing newline removed);
// `error` is set when the file cannot be read.
std::string read_secret(const std::string& inline_value, const std::string& file, std::string& error);

// Reads `batch: {max_events, max_bytes}` (when given) over the defaults
// already in max_events and max_bytes; `what` names the unit ("points").
void read_batch_limits(const std::optional<config::Node>& batch, const char* what, std::int64_t& max_events,
                       std::uint64_t& max_bytes);

}  // namespace bifrost::outputs
