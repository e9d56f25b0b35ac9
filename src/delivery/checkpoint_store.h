// Durable state of one component (an input's file offsets, a consumer's
// positions), one file per component:
//   data_dir/checkpoints/<pipeline>/<component>.ckpt
//
// Format (versioned): a header line, then the component's own body (JSON):
//   bifrost-checkpoint 1 <body length> <crc32 of body, hex>\n<body>
// Writes are atomic: a temporary file in the same directory, fsync, rename
// over the old one, fsync of the directory. A reader sees the old state or
// the new one, never a mix.
//
// The rule for a checkpoint that cannot be read (bad header, unknown
// version, short, checksum mismatch): it is reported, counted, moved aside
// to <name>.corrupt-<unix time> for inspection, and load() says kCorrupt.
// The component then starts as if it had no state but never skips data:
// the file input reads every file from its start (duplicates, not loss).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pipeline/stats.h"

namespace bifrost::delivery {

enum class CheckpointError : std::uint8_t { kNone, kCorrupt, kIo };

// (A plain struct rather than std::expected: the fuzz targets build this
// with clang 14, whose libstdc++ 12 headers have no std::expected.)
struct LoadResult {
  CheckpointError error = CheckpointError::kNone;
  std::string body;  // empty when there is no checkpoint yet
  explicit operator bool() const { return error == CheckpointError::kNone; }
};

class CheckpointStore {
 public:
  // `stats` (may be null) gets the write durations and errors.
  CheckpointStore(const std::string& data_dir, const std::string& pipeline, const std::string& component,
                  pipeline::ComponentStats* stats);

  const std::string& path() const { return path_; }

  // The body last saved; an empty body when there is no checkpoint yet.
  LoadResult load();
  // Replaces the checkpoint atomically. On failure (reported, counted) the
  // previous one stays and this returns false.
  bool save(std::string_view body);

 private:
  std::string dir_;
  std::string path_;
  pipeline::ComponentStats* stats_;
};

}  // namespace bifrost::delivery
