// The errors of delivery/: what a durable write or read can come to.
#pragma once

#include <cstdint>

#include "core/result.h"

namespace bifrost::delivery {

enum class Errc : std::uint8_t {
  kIo,       // the file system refused (disk full, permissions, I/O error): reported, counted
  kCorrupt,  // a file is not what bifrost wrote (bad header, checksum): set aside, reported, counted
  kShort,    // fewer bytes than a record's header: a torn end, or the rest is not read yet
  kGivenUp,  // the caller stopped waiting (delivery given up at shutdown)
};

using Error = core::Error<Errc>;
template <class T>
using Result = core::Result<T, Error>;

}  // namespace bifrost::delivery
