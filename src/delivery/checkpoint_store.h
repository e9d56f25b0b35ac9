// Durable state of one component (an input's file offsets, a consumer's
// positions), one file per component:
//   data_dir/checkpoints/<pipeline>/<component>.ckpt
// and, in the same format, a stateful stage's state (an aggregate's closed
// windows, dedupe keys, throttle buckets):
//   data_dir/state/<pipeline>/<component>.state
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
// the file input reads every file from its start (duplicates, not loss);
// each component says in `on_corrupt` what it does.
//
// The directory is private (0700, the file 0600) and reached without
// following a symlink below data_dir (private_dir.h).
#pragma once

#include <cstdint>
#include <span>
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
  // A stateful stage's state file, data_dir/state/<pipeline>/<component>.state.
  // `errors` (may be null) counts what cannot be read or written;
  // `on_corrupt` ends the log line of a corrupt file (what happens now).
  static CheckpointStore stage_state(const std::string& data_dir, const std::string& pipeline,
                                     const std::string& component, core::Counter* errors, std::string on_corrupt);

  const std::string& path() const { return path_; }

  // The body last saved; an empty body when there is no checkpoint yet.
  // Errc::kCorrupt or kIo when it cannot be read (reported, counted).
  Result<std::string> load();
  // Replaces the checkpoint atomically. On failure (reported, counted) the
  // previous one stays.
  Result<void> save(std::string_view body);
  // The same, the body given in parts written one after the other (a large
  // state written from where it lives, without a copy of it).
  Result<void> save(std::span<const std::string_view> parts);
  // A body load() returned that its component cannot read (a checksum is
  // right, the content is not): moved aside, reported and counted like a
  // corrupt file.
  void set_aside(std::string_view why);

 private:
  CheckpointStore(std::string root, std::string rel, std::string name, std::string noun, core::Counter* errors,
                  core::Histogram* durations, std::string on_corrupt);
  const std::string& noun() const { return noun_; }  // how the log names the file

  std::string root_, rel_;  // data_dir, checkpoints/<pipeline> or state/<pipeline>
  std::string dir_;
  std::string name_;  // <component>.ckpt or <component>.state
  std::string path_;
  std::string noun_;
  core::Counter* errors_;
  core::Histogram* durations_;
  std::string on_corrupt_;
};

}  // namespace bifrost::delivery
