// `decoding: json` of the network inputs: a JSON object becomes the event.
// Its "message" (a string) is the message, its "@timestamp" (an RFC 3339
// string) the event time, and every other member a field; so an event
// bifrost wrote as JSON comes back as it was.
#pragma once

#include <span>
#include <string_view>

#include "core/batch.h"

namespace bifrost::inputs {

// Decodes `text` into `e` (fields set, message and time replaced when the
// object has them). `text` lying in the batch's chunk is parsed in place.
// False, and `e` untouched, when `text` is not a JSON object.
bool decode_json_event(core::Batch& b, core::Event& e, std::string_view text);

// The same for an object already parsed (its members in the batch's arena).
void event_from_members(core::Batch& b, core::Event& e, std::span<const core::Member> members);

}  // namespace bifrost::inputs
