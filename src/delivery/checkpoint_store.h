// Durable state of one component (an input's file offsets, a consumer's
// positions), one file per component:
//   data_dir/checkpoints/<pipeline>/<component>.ckpt
// and, in the same format, a stateful stage's state (an aggregate's closed
// windows, dedupe keys, throttle buckets):
//   data_dir/state/<pipeline>/<component>.state
//
// Format (versioned): a header line, then the component's own body (JSON):
//   bifrost-checkpoint 1 <body length> <crc32 of body, hex> <sequence>\n<body>
// The sequence number orders the copies below; a header without one (an
// older build's) reads as 0, and an older build reads this one (it stops
// at the fourth field).
// Writes are atomic: a temporary file in the same directory, fsync, rename
// over the old one, fsync of the directory. A reader sees the old state or
// the new one, never a mix.
//
// The live copy (a component that follows its acknowledgements as they
// happen: the file input): save_live() writes the same record, without
// fsync, in place (pwrite) into one of two files <name>.live0/.live1 in
// turn. Page-cache writes survive a crash of the process (kill -9, an
// abort), not of the machine; the durable file above, written every second,
// survives both. A write torn by a crash damages only the slot it was
// writing (the other holds the write before it) and fails its checksum.
// load() takes the valid copy with the highest sequence number: after a
// crash of the process the live one (newest), after a power loss whatever
// reached the disk last, never a torn one; a live copy that cannot be
// read is logged and passed over, never counted as corrupt state.
//
// The rule for a checkpoint that cannot be read (bad header, unknown
// version, short, checksum mismatch): it is reported, counted, moved aside
// to <name>.corrupt-<unix time> for inspection, and load() says kCorrupt.
// The component then starts as if it had no state but never skips data:
// the file input reads every file from its start (duplicates, not loss);
// each component says in `on_corrupt` what it does.
//
// The directory is private (0700, the files 0600) and reached without
// following a symlink below data_dir (private_dir.h); no copy is read or
// written through a symlink.
#pragma once

#include <cstdint>
#include <memory>
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

  ~CheckpointStore();
  CheckpointStore(CheckpointStore&&) noexcept;
  CheckpointStore& operator=(CheckpointStore&&) noexcept;

  const std::string& path() const { return path_; }

  // The body last saved (the newest valid copy: durable or live); an empty
  // body when there is no checkpoint yet. Errc::kCorrupt or kIo when the
  // durable file cannot be read and no live copy can stand in (reported,
  // counted).
  Result<std::string> load();
  // The file load() took its body from: path(), or a live copy's.
  const std::string& loaded_from() const { return loaded_from_; }
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

  // Writes the live copy (see the top): one thread at a time (the
  // component's follower), concurrently with save() on another. A failure
  // is logged when it starts and counted once; the durable copy stays.
  Result<void> save_live(std::string_view body);
  // Removes the live copy: after a stop whose durable save succeeded, the
  // durable file alone holds the state. Not concurrently with save_live().
  void drop_live();

 private:
  CheckpointStore(std::string root, std::string rel, std::string name, std::string noun, core::Counter* errors,
                  core::Histogram* durations, std::string on_corrupt);
  const std::string& noun() const { return noun_; }  // how the log names the file
  void set_aside_file(const std::string& file, std::string_view why, std::string_view then);

  std::string root_, rel_;  // data_dir, checkpoints/<pipeline> or state/<pipeline>
  std::string dir_;
  std::string name_;  // <component>.ckpt or <component>.state
  std::string path_;
  std::string noun_;
  core::Counter* errors_;
  core::Histogram* durations_;
  std::string on_corrupt_;
  std::string loaded_from_;
  struct Live;  // the live copy's files and the sequence number both writers share
  std::unique_ptr<Live> live_;
};

}  // namespace bifrost::delivery
