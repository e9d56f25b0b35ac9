// The errors of the file input.
#pragma once

#include <cstdint>

#include "core/result.h"

namespace bifrost::inputs::file {

enum class Errc : std::uint8_t {
  kBadState,  // a checkpoint body that is not the file input's (the message says what is wrong)
  kGone,      // the path names no file, or another file than the one meant: the next scan sees why
  kIo,        // the file is there but cannot be opened or read (permissions, I/O error)
};
using Error = core::Error<Errc>;

}  // namespace bifrost::inputs::file
