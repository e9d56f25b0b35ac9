// An object's lines back as events, to park them in the failed queue when
// the server refuses the object: an ndjson line is bifrost's JSON event
// (message, @timestamp, fields), a text line is the message. A line that is
// not a JSON object is kept as the message.
#pragma once

#include <string_view>

#include "core/batch.h"
#include "outputs/common/codec.h"

namespace bifrost::outputs::s3 {

// Appends the event of `line` (without its '\n') to `batch`, strings in its arena.
void append_line_event(core::Batch& batch, std::string_view line, Codec codec);

}  // namespace bifrost::outputs::s3
