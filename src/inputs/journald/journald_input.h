// Input `journald`: the systemd journal, read with libsystemd's sd-journal:
// the local journal (the system's and the users' files), or the journal
// files of `directory` (such as those systemd-journal-remote writes).
//
// `units` keeps the entries of those units (_SYSTEMD_UNIT; a name without
// a dot gets ".service"), `priority` those at most that severity (0..7 or
// emerg..debug). Fields: entry.h.
//
// The checkpoint is the journal cursor of the last entry acknowledged (every
// output finished with its batch), saved about once a second and at stop,
// so a restart after a crash reads again at most what was in flight. With
// no checkpoint yet, `start_at` says where to start: beginning or end.
// Rotation and vacuuming are sd-journal's: new files are picked up as they
// appear; a checkpointed entry vacuumed away resumes at the oldest entry
// after it (what was removed unread is gone with its file).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/reader.h"
#include "pipeline/component.h"

namespace bifrost::inputs::journald {

struct Spec final : pipeline::InputSpec {
  std::string directory;  // empty: the local journal
  std::vector<std::string> units;
  int priority = 7;
  bool start_at_end = false;
  std::int64_t batch_events = 2048;
  std::uint64_t max_field_bytes = 1u << 20;
  std::unique_ptr<pipeline::Input> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::InputSpec> parse(config::MapReader& r);

}  // namespace bifrost::inputs::journald
