// How outputs that write one record per event turn events into bytes.
//   json: the event as one JSON object (see json.h), newline-terminated
//   text: the message only, newline-terminated
#pragma once

#include <optional>
#include <string_view>

#include "core/batch.h"

namespace bifrost::core {

enum class Codec { kJson, kText };

std::optional<Codec> codec_from_name(std::string_view name);

// Encodes the events in slot.selected into slot.encoded, recording where
// each ends in slot.ends.
void encode_slot(const Batch& batch, OutputSlot& slot, Codec codec);

}  // namespace bifrost::core
