// The file input's runtime: one thread that discovers files, reads them in
// turn (one batch per file per round, so a busy file cannot starve the
// others), follows rotation, and checkpoints acknowledged offsets.
//
// A tracked file ("tail") is live (its inode is known, open or closed) or
// detached (its content left its inode: truncated, renamed out of `paths`
// and done, deleted and done). A detached tail waits, until forget_after,
// for a file whose first bytes carry its fingerprint: that file continues it
// at the same offset (copytruncate's rotated copy, a move across
// filesystems), so no line is read twice or skipped.
//
// Offsets: read_pos is how far the file was read; the splitter's offset()
// is just past the last line handed out in a batch; the tracker's
// acknowledged() is just past the last line every output finished with.
// Only the last goes to the checkpoint.
//
// The checkpoint has two copies (delivery/checkpoint_store.h): this thread
// writes the durable one every second while something moved; the
// follower's thread (`ckpt:<id>`, delivery/checkpoint_follower.h) writes
// the live one whenever an acknowledged position moves, from the roster:
// the files as this thread last published them (at once after a change of
// which files there are, before a new file's first batch) with each
// tracker's acknowledged() read then. A crash of the process then re-sends
// only what was not yet acknowledged.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ack.h"
#include "core/clock.h"
#include "delivery/checkpoint_follower.h"
#include "delivery/checkpoint_store.h"
#include "inputs/common/line_splitter.h"
#include "inputs/file/discovery.h"
#include "inputs/file/file_input.h"
#include "inputs/file/identity.h"
#include "inputs/file/state.h"
#include "pipeline/exactly_once.h"

struct stat;

namespace bifrost::inputs::file {

// Shared by the tailer's files (tailer.cc, tracking.cc).
std::int64_t unix_now();
// Opens `path` for reading if it is still the file `id` (`st` is its stat):
// the descriptor; kGone when the path names no file or another one, kIo when
// it cannot be opened.
core::Result<int, Error> open_checked(const std::string& path, const FileId& id, struct stat& st);

using Clock = core::Clock;  // the pipeline's (BuildContext::clock): every timeout here is measured on it

struct Tail {
  FileId id;  // invalid once detached
  Fingerprint fp;
  std::uint64_t source = 0;
  std::string path;
  int fd = -1;
  std::uint64_t read_pos = 0;
  std::uint64_t size = 0;  // as last seen
  LineSplitter splitter;
  std::shared_ptr<core::AckTracker> tracker;
  std::uint64_t saved_offset = ~0ull;  // acknowledged offset in the last checkpoint

  bool detached = false;
  bool matched = true;     // found by the last scan
  bool finishing = false;  // not in `paths` any more, or deleted: read to the end, then release
  bool deleted = false;
  bool at_eof = false;
  bool wants_open = false;  // closed, but has unread bytes
  bool filling = false;     // a copy continuing a detached file, still being written up to read_pos
  bool forget = false;      // detached with nothing to keep: removed at the next upkeep
  Clock::time_point last_active;
  Clock::time_point detached_at;
  std::int64_t seen_unix = 0;
  std::uint64_t open_group_offset = ~0ull;  // multiline: an event open since open_group_since
  Clock::time_point open_group_since;

  std::uint64_t acknowledged() const { return tracker->acknowledged(); }
};

class Tailer final : public pipeline::Input, public pipeline::PositionSource {
 public:
  Tailer(const Spec& spec, const pipeline::BuildContext& ctx);
  ~Tailer() override;

  void run(pipeline::InputContext& ctx) override;
  void drained() override;
  void decorate(core::Batch& batch) const override;
  // Exactly once (exactly_once.cc), on the committer's thread: the
  // checkpoint body of the files as they are acknowledged now.
  bool positions(std::uint64_t epoch, pipeline::InputPositions& out) override;

 private:
  // discovery and identity
  void load_checkpoint();
  void load_state(std::string_view body);
  void scan(bool first);
  void track_known(Tail& t, const Found& f, bool first);
  void track_unknown(const Found& f, bool first);
  Tail& add_tail(const FileId& id, const std::string& path);
  void detach(Tail& t, const char* why);
  void restart_from_zero(Tail& t, const std::string& prefix, const char* why);
  bool check_intact(Tail& t);
  void note_deleted(Tail& t);
  bool copies_another(Tail& t, std::uint64_t size);
  core::SysResult<void> read_head(int fd, std::uint64_t size, std::string& out) const;
  void adopt(Tail& detached, const Found& f, int fd);

  // reading
  bool pump(Tail& t, pipeline::InputContext& ctx);
  void publish(Tail& t, core::Batch* batch, pipeline::InputContext& ctx);
  bool open_tail(Tail& t);
  void close_tail(Tail& t);

  bool all_at_end() const;

  // upkeep
  // Closes, opens and forgets files; checkpoints. Returns whether it opened one.
  bool housekeeping(Clock::time_point now);
  // The durable copy; false when it could not be written (reported).
  bool save_checkpoint(bool force);
  void publish_series();

  // exactly once (exactly_once.cc): an output's transactions commit the
  // checkpoint (pipeline/exactly_once.h). The one in Kafka wins over the
  // local one, which only ever copies what was committed.
  std::optional<std::string> prefer_committed(std::optional<std::string> local);
  void start_exactly_once();
  // The files and their trackers as the committer sees them: refreshed
  // before every batch is published, so a commit never holds an offset of
  // a file it does not know.
  void refresh_view();
  std::string state_now() const;
  void save_committed();
  // A new epoch: everything read since the last commit is read again.
  void rewind();
  // the live copy
  std::shared_ptr<core::AckTracker> new_tracker(std::uint64_t start);
  void changed();  // which files there are, or what identifies one, changed
  void publish_roster();
  void live_body(std::string& out);  // the follower's thread

  Spec spec_;
  Clock& clock_;
  pipeline::ExactlyOnce* eo_;  // null: the local checkpoint is the truth
  pipeline::InputContext* ctx_ = nullptr;
  std::string id_;
  std::string pipeline_;
  std::string data_dir_;
  std::string hostname_;
  std::optional<delivery::CheckpointStore> store_;  // made in run(), with the stats
  core::ComponentStats* stats_ = nullptr;
  std::unique_ptr<Watcher> watcher_;

  std::vector<std::unique_ptr<Tail>> tails_;
  std::unordered_map<FileId, Tail*, FileIdHash> live_;
  std::unordered_map<FileId, Clock::time_point, FileIdHash> deferred_;  // copies of a live file, seen at
  bool had_checkpoint_ = false;                                         // not the first run: start_at does not apply
  bool structure_changed_ = true;
  bool rescan_ = false;
  bool ending_ = false;  // end_at_eof: every file is at its end; last partial lines go out
  std::size_t open_files_ = 0;
  std::size_t next_ = 0;  // round-robin start
  Clock::time_point next_scan_;
  Clock::time_point next_checkpoint_;
  std::string prefix_;  // scratch

  // exactly once
  std::uint64_t epoch_ = 0;  // what this thread's batches are stamped with
  struct Viewed {
    SavedFile file;  // its offset is the tracker's, read at the commit
    std::shared_ptr<core::AckTracker> tracker;
  };
  std::mutex view_mu_;
  std::vector<Viewed> view_;
  std::uint64_t view_epoch_ = 0;
  std::string saved_committed_;                  // the committed state last written locally
  std::shared_ptr<core::AckProgress> progress_;  // bumped by every tail's tracker
  std::uint64_t structure_gen_ = 0, roster_gen_ = 0;
  std::mutex roster_mu_;
  std::vector<SavedFile> roster_files_;  // offsets filled in by live_body()
  std::vector<std::shared_ptr<core::AckTracker>> roster_trackers_;
  std::unique_ptr<delivery::CheckpointFollower> follower_;  // last: stopped before what it reads goes
};

}  // namespace bifrost::inputs::file
