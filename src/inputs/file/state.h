// What the file input keeps in its checkpoint (the body under
// delivery::CheckpointStore's header): per file its identity, the
// acknowledged offset and where it was last seen.
//
//   {"files":[{"dev":2049,"ino":1234,"fp_len":1024,"fp":"89ab...","offset":5120,
//              "source":"...","path":"/var/log/app.log","seen":1764000000,"detached":false}]}
//
// `detached`: the file's inode is no longer its own (truncated and
// rewritten, renamed out of `paths`, deleted); the entry waits, until
// forget_after, for a copy with the same fingerprint to continue from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "inputs/file/errors.h"
#include "inputs/file/identity.h"

namespace bifrost::inputs::file {

struct SavedFile {
  FileId id;
  Fingerprint fp;
  std::uint64_t offset = 0;
  std::uint64_t source = 0;
  std::string path;
  std::int64_t seen_unix = 0;
  bool detached = false;
};

std::string encode_state(const std::vector<SavedFile>& files);

// The entries, or kBadState saying what is wrong with the body.
core::Result<std::vector<SavedFile>, Error> decode_state(std::string_view body);

}  // namespace bifrost::inputs::file
