// How outputs that write one record per event turn events into bytes.
//   json: the event as one JSON object (see json.h), newline-terminated
//   text: the message only, newline-terminated
#pragma once

#include <optional>
#include <string_view>

#include "core/batch.h"

namespace bifrost::outputs {

enum class Codec { kJson, kText };

std::optional<Codec> codec_from_name(std::string_view name);

// Encodes the events in slot.selected into slot.encoded, recording where
// each ends in slot.ends.
void encode_slot(const core::Batch& batch, core::OutputSlot& slot, Codec codec);

// The bytes encode() left for the i-th selected event (with its '\n').
inline std::string_view encoded(const core::OutputSlot& slot, std::size_t i) {
  const std::size_t begin = i == 0 ? 0 : slot.ends[i - 1];
  return std::string_view(slot.encoded).substr(begin, slot.ends[i] - begin);
}

}  // namespace bifrost::outputs
