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
//
// The directory is private (0700, the file 0600) and reached without
// following a symlink below data_dir (private_dir.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/stats.h"
#include "delivery/errors.h"

namespace bifrost::delivery {

class CheckpointStore {
 public:
  // `stats` (may be null) gets the write durations and errors.
  CheckpointStore(const std::string& data_dir, const std::string& pipeline, const std::string& component,
                  core::ComponentStats* stats);

  const std::string& path() const { return path_; }

  // The body last saved; an empty body when there is no checkpoint yet.
  // Errc::kCorrupt or kIo when it cannot be read (reported, counted).
  Result<std::string> load();
  // Replaces the checkpoint atomically. On failure (reported, counted) the
  // previous one stays.
  Result<void> save(std::string_view body);

 private:
  std::string root_, rel_;  // data_dir, checkpoints/<pipeline>
  std::string dir_;
  std::string name_;  // <component>.ckpt
  std::string path_;
  core::ComponentStats* stats_;
};

}  // namespace bifrost::delivery
