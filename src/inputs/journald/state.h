// The journald input's checkpoint body (under delivery::CheckpointStore's
// header): the cursor of the last entry whose batch was acknowledged.
//   {"cursor":"s=...;i=...;b=...;m=...;t=...;x=..."}
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace bifrost::inputs::journald {

std::string encode_state(std::string_view cursor);

enum class Errc : std::uint8_t { kBadState };
using Error = core::Error<Errc>;

// The cursor ("" for an empty body), or kBadState saying what is wrong.
core::Result<std::string, Error> decode_state(std::string_view body);

}  // namespace bifrost::inputs::journald
