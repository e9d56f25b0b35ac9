// The http input's body decodings: the request body (in the batch's chunk)
// becomes events, or the reason it cannot (answered as 400). Pure; fuzzed
// (tests/fuzz/fuzz_http.cc).
//
//   ndjson  one JSON object per line, each an event (message, @timestamp,
//           fields); blank lines are skipped
//   json    a JSON array of objects, or one object
//   text    each line is an event's message (a CR before the LF is
//           removed; a last line without LF counts)
#pragma once

#include <cstdint>
#include <string>

#include "core/batch.h"

namespace bifrost::inputs::http {

enum class Decoding : std::uint8_t { kNdjson, kJson, kText, kInflux };

// Appends the events of chunk[0, size) to batch.events, each with
// `offset` = `peer` (inputs/common/peers.h). False, with the reason, when
// the body is not what `decoding` says or holds more than `max_events`
// events; the batch's events are then cleared.
bool decode_body(core::Batch& b, Decoding decoding, std::uint64_t peer, std::size_t max_events, std::string& reason);

}  // namespace bifrost::inputs::http
