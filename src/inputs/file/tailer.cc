#include "inputs/file/tailer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/log.h"
#include "core/time.h"
#include "inputs/common/source_fields.h"
#include "inputs/file/metrics.h"

namespace bifrost::inputs::file {

namespace {

constexpr int kIdlePollMs = 250;
constexpr auto kCheckpointEvery = std::chrono::seconds(1);

}  // namespace

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

core::Result<int, Error> open_checked(const std::string& path, const FileId& id, struct stat& st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return core::fail(Errc::kGone);
    return core::fail(Errc::kIo, std::strerror(errno));
  }
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return core::fail(Errc::kIo, std::strerror(err));
  }
  if (FileId{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)} != id) {
    ::close(fd);
    return core::fail(Errc::kGone);
  }
  return fd;
}

Tailer::Tailer(const Spec& spec, const pipeline::BuildContext& ctx)
    : spec_(spec),
      clock_(*ctx.clock),
      eo_(ctx.exactly_once),
      id_(ctx.component),
      pipeline_(ctx.pipeline),
      data_dir_(ctx.data_dir),
      hostname_(host_name()),
      progress_(std::make_shared<core::AckProgress>()) {
  if (eo_) eo_->join(id_, pipeline::ExactlyOnce::Kind::kState);
}

Tailer::~Tailer() {
  if (eo_) eo_->detach(id_);
  if (follower_) follower_->stop();
  for (auto& t : tails_) {
    if (t->fd >= 0) ::close(t->fd);
  }
}

// ---- lifecycle -------------------------------------------------------------

void Tailer::run(pipeline::InputContext& ctx) {
  stats_ = &ctx.stats();
  ctx_ = &ctx;
  store_.emplace(data_dir_, pipeline_, id_, stats_);
  load_checkpoint();
  watcher_ = std::make_unique<Watcher>(spec_.paths);
  scan(/*first=*/true);
  if (eo_) {
    start_exactly_once();
  } else {
    publish_roster();
    follower_ = std::make_unique<delivery::CheckpointFollower>(
        *store_, progress_, clock_, [this](std::string& out) { live_body(out); }, id_);
  }
  next_checkpoint_ = clock_.now();
  while (!ctx.stopping()) {
    if (eo_ && eo_->epoch() != epoch_) rewind();
    if (rescan_ || clock_.now() >= next_scan_) scan(/*first=*/false);
    if (roster_gen_ != structure_gen_) publish_roster();  // before a new file's first batch
    bool progress = false;
    const std::size_t n = tails_.size();
    for (std::size_t k = 0; k < n && !ctx.stopping(); ++k) {
      Tail& t = *tails_[(next_ + k) % n];
      if (!t.detached && t.fd >= 0) progress = pump(t, ctx) || progress;
    }
    next_ = n ? (next_ + 1) % n : 0;
    progress = housekeeping(clock_.now()) || progress;
    if (roster_gen_ != structure_gen_) publish_roster();
    if (progress) {  // busy: still notice new files at once
      bool modified = false;
      if (watcher_->wait(0, modified)) rescan_ = true;
    }
    if (!progress && spec_.end_at_eof && all_at_end()) {
      if (ending_) {
        core::log::info(id_, "every file read to its end (end_at_eof)");
        return;
      }
      ending_ = true;  // one more round sends the last lines without a newline
      continue;
    }
    if (!progress && !ctx.stopping()) {
      bool modified = false;
      if (watcher_->wait(kIdlePollMs, modified)) rescan_ = true;
    }
  }
}

bool Tailer::all_at_end() const {
  for (const auto& t : tails_) {
    if (t->detached) continue;
    if (t->wants_open || t->splitter.has_more()) return false;
    if (t->fd >= 0 && !t->at_eof) return false;
    if (ending_ && t->splitter.pending_bytes() > 0) return false;
  }
  return true;
}

void Tailer::drained() {
  if (follower_) follower_->stop();
  // Saved durably: the live copy has nothing more to say.
  if (store_ && save_checkpoint(/*force=*/true)) store_->drop_live();
  for (auto& t : tails_) {
    if (t->fd >= 0) close_tail(*t);
  }
  if (stats_) publish_series();
}

void Tailer::decorate(core::Batch& batch) const {
  // host and log.file are the same on every event of the batch: shared.
  const core::Value host = host_object(batch, hostname_);
  core::Value file = core::Value::object(batch.arena, 1);
  file.append("path", core::Value::string(batch.source), batch.arena);
  file = file.freeze(batch.arena);
  for (core::Event& e : batch.events) {
    core::Value log = core::Value::object(batch.arena, 2);
    log.append("file", file, batch.arena);
    log.append("offset", core::Value::integer(static_cast<std::int64_t>(e.offset)), batch.arena);
    set_host_and_log(batch, e, host, log);
  }
}

// ---- state -----------------------------------------------------------------

void Tailer::load_checkpoint() {
  auto loaded = store_->load();
  std::optional<std::string> body;
  if (loaded) body = std::move(*loaded);
  if (eo_) body = prefer_committed(std::move(body));
  if (!body) {  // reported by the store; the rule: read everything from its start
    had_checkpoint_ = true;
    return;
  }
  load_state(*body);
}

void Tailer::load_state(std::string_view body) {
  if (body.empty()) return;  // the first run
  had_checkpoint_ = true;
  auto files = decode_state(body);
  if (!files) {
    core::log::error(id_, store_->path(), ": unreadable checkpoint body (", files.error().message,
                     "); files are read from their start");
    stats_->checkpoint_errors.add(1);
    return;
  }
  const auto now = clock_.now();
  const std::int64_t now_unix = unix_now();
  for (const SavedFile& s : *files) {
    auto t = std::make_unique<Tail>();
    t->id = s.id;
    t->fp = s.fp;
    t->source = s.source;
    t->path = s.path;
    t->read_pos = s.offset;
    t->splitter = LineSplitter(s.offset);
    t->splitter.configure(spec_.max_line_bytes, static_cast<std::size_t>(spec_.batch_events));
    t->tracker = new_tracker(s.offset);
    t->saved_offset = s.offset;
    t->seen_unix = s.seen_unix;
    t->matched = false;
    if (s.detached || !s.id.valid() || live_.contains(s.id)) {
      t->detached = true;
      t->id = FileId{};
      t->detached_at = now - std::chrono::seconds(std::clamp<std::int64_t>(now_unix - s.seen_unix, 0, 1 << 30));
    } else {
      live_[t->id] = t.get();
    }
    tails_.push_back(std::move(t));
  }
  core::log::info(id_, "checkpoint: ", tails_.size(), " file(s) from ", store_->path());
}

bool Tailer::save_checkpoint(bool force) {
  if (eo_) {  // the committed checkpoint, not the acknowledged one: never ahead of Kafka's
    refresh_view();
    save_committed();
    return true;
  }
  bool changed = structure_changed_ || force;
  for (const auto& t : tails_) changed = changed || t->acknowledged() != t->saved_offset;
  if (!changed) return true;
  std::vector<SavedFile> files;
  files.reserve(tails_.size());
  for (const auto& t : tails_) {
    files.push_back(SavedFile{t->detached ? FileId{} : t->id, t->fp, t->acknowledged(), t->source, t->path,
                              t->seen_unix, t->detached});
  }
  if (!store_->save(encode_state(files))) return false;  // reported by the store; tried again next second
  for (std::size_t i = 0; i < tails_.size(); ++i) tails_[i]->saved_offset = files[i].offset;
  structure_changed_ = false;
  return true;
}

// ---- the live copy of the checkpoint -----------------------------------------

std::shared_ptr<core::AckTracker> Tailer::new_tracker(std::uint64_t start) {
  return std::make_shared<core::AckTracker>(start, progress_);
}

void Tailer::changed() {
  structure_changed_ = true;
  ++structure_gen_;
}

// What the follower writes: the files as this thread last published them,
// with what each has acknowledged now.
void Tailer::publish_roster() {
  roster_gen_ = structure_gen_;
  std::vector<SavedFile> files;
  std::vector<std::shared_ptr<core::AckTracker>> trackers;
  files.reserve(tails_.size());
  trackers.reserve(tails_.size());
  for (const auto& t : tails_) {
    files.push_back(SavedFile{t->detached ? FileId{} : t->id, t->fp, 0, t->source, t->path, t->seen_unix, t->detached});
    trackers.push_back(t->tracker);
  }
  {
    std::lock_guard lock(roster_mu_);
    roster_files_.swap(files);
    roster_trackers_.swap(trackers);
  }
  progress_->bump();  // written at once, not at the next acknowledgement
}

void Tailer::live_body(std::string& out) {
  std::lock_guard lock(roster_mu_);
  for (std::size_t i = 0; i < roster_files_.size(); ++i) roster_files_[i].offset = roster_trackers_[i]->acknowledged();
  out = encode_state(roster_files_);
}

void Tailer::publish_series() {
  std::vector<core::Series> series;
  series.reserve(tails_.size() + 1);
  series.push_back(core::Series{&kFilesOpen, {}, static_cast<double>(open_files_)});
  for (const auto& t : tails_) {
    if (t->detached) continue;
    std::uint64_t acked = t->acknowledged();
    double lag = t->size > acked ? static_cast<double>(t->size - acked) : 0.0;
    series.push_back(core::Series{&kFileLagBytes, {t->path}, lag});
  }
  stats_->series.replace(std::move(series));
}

// ---- reading ---------------------------------------------------------------

// Reads the first bytes of a file of `size` bytes that make its fingerprint.
core::SysResult<void> Tailer::read_head(int fd, std::uint64_t size, std::string& out) const {
  return read_prefix(fd, std::min<std::uint64_t>(size, spec_.fingerprint_bytes), out);
}

// Whether the first bytes of empty-until-now `t` carry another tail's fingerprint.
bool Tailer::copies_another(Tail& t, std::uint64_t size) {
  if (!read_head(t.fd, size, prefix_)) return false;
  for (const auto& o : tails_) {
    if (o.get() != &t && o->fp.len > 0 && prefix_matches(prefix_, o->fp)) return true;
  }
  return false;
}

bool Tailer::open_tail(Tail& t) {
  struct stat st {};
  auto fd = open_checked(t.path, t.id, st);
  if (!fd) return false;  // changed under us: the next scan sees it
  t.fd = *fd;
  ++open_files_;
  t.at_eof = false;
  t.last_active = clock_.now();
  return true;
}

void Tailer::close_tail(Tail& t) {
  ::close(t.fd);
  t.fd = -1;
  --open_files_;
  // A partial line (or open multiline event) is read again when it reopens.
  t.splitter.rewind();
  t.read_pos = t.splitter.offset();
  t.open_group_offset = ~0ull;
}

// Reads one batch from `t` if it has anything new. Returns whether it did.
bool Tailer::pump(Tail& t, pipeline::InputContext& ctx) {
  struct stat st {};
  if (::fstat(t.fd, &st) != 0) {
    core::log::error(id_, t.path, ": fstat: ", std::strerror(errno));
    close_tail(t);
    return false;
  }
  const auto now = clock_.now();
  const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  if (st.st_nlink == 0) note_deleted(t);
  if (t.filling) {
    // A rotated copy still being written: shorter than what was read of
    // the original is not a truncation.
    if (size < t.read_pos) {
      t.size = size;
      return false;
    }
    t.filling = false;
  }
  if (size < t.read_pos || size < t.size) {
    (void)read_head(t.fd, size, prefix_);  // on an error, what was read: the new fingerprint grows from it
    restart_from_zero(t, prefix_, "truncated");
    return true;
  }
  const bool grew = size > t.read_pos;
  if (grew && t.fp.len == 0 && t.read_pos == 0 && copies_another(t, size)) {
    // Its first bytes are another file's: a rotated copy being written, not
    // a new file. Let discovery decide what it continues.
    detach(t, "its first bytes are another file's; looked at again");
    t.forget = true;
    rescan_ = true;
    return true;
  }
  if (grew && (t.at_eof || t.fp.len < spec_.fingerprint_bytes)) {
    // Growing again after a pause, or still short: is it the same content?
    // (copytruncate and `> file` rewrite a file in place.) A short
    // fingerprint grows with the file.
    if (!read_head(t.fd, size, prefix_)) return false;
    if (!prefix_matches(prefix_, t.fp)) {
      restart_from_zero(t, prefix_, "rewritten in place");
      return true;
    }
    if (prefix_.size() > t.fp.len) {
      t.fp = fingerprint_of(prefix_);
      changed();
    }
  }
  t.size = size;
  const bool group_due = spec_.multiline && !grew && t.open_group_offset == t.splitter.offset() &&
                         now - t.open_group_since >= std::chrono::nanoseconds(spec_.multiline->timeout_ns);
  // A file out of `paths` (renamed or deleted) may still be written by a
  // process holding it open: its last partial line waits `rotate_wait`.
  const bool final =
      !grew && t.splitter.pending_bytes() > 0 &&
      (ending_ || (t.finishing && now - t.last_active >= std::chrono::nanoseconds(spec_.rotate_wait_ns)));
  const bool more = t.splitter.has_more();  // lines already read, past the last batch's limit
  if (!grew && !more && !group_due && !final) {
    t.at_eof = true;
    return false;
  }

  core::Batch* batch = ctx.acquire();
  if (batch == nullptr) return false;
  t.splitter.begin(*batch, static_cast<std::size_t>(spec_.read_buffer_bytes));
  while (grew && t.splitter.space(*batch) > 0) {
    ssize_t n = ::pread(t.fd, t.splitter.write_ptr(*batch), t.splitter.space(*batch), static_cast<off_t>(t.read_pos));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      core::log::error(id_, t.path, ": read: ", std::strerror(errno));
      break;
    }
    if (n == 0) break;
    t.splitter.commit(*batch, static_cast<std::size_t>(n));
    t.read_pos += static_cast<std::uint64_t>(n);
    if (t.read_pos >= size) break;
  }
  t.splitter.finish(*batch, final);
  if (spec_.multiline) {
    const bool limit_hit = batch->events.size() >= static_cast<std::size_t>(spec_.batch_events);
    std::size_t open = join_lines(*batch, *spec_.multiline, spec_.max_line_bytes);
    if (open < batch->events.size() && !final && !group_due && !(open == 0 && limit_hit)) {
      t.splitter.retract(*batch, open);
      if (t.open_group_offset != t.splitter.offset()) {
        t.open_group_offset = t.splitter.offset();
        t.open_group_since = now;
      }
    } else {
      t.open_group_offset = ~0ull;
    }
  }
  if (grew) t.last_active = now;
  t.at_eof = t.read_pos >= size;
  publish(t, batch, ctx);
  return true;
}

void Tailer::publish(Tail& t, core::Batch* batch, pipeline::InputContext& ctx) {
  batch->ingest_ns = core::now_ns();
  for (core::Event& e : batch->events) e.timestamp_ns = batch->ingest_ns;
  batch->source = t.path;
  batch->source_id = t.source;
  batch->tracker = t.tracker;
  batch->ack_seq = t.tracker->track(t.splitter.offset());
  batch->epoch = epoch_;
  if (eo_) refresh_view();
  ctx.publish(batch);
}

// ---- upkeep ----------------------------------------------------------------

bool Tailer::housekeeping(Clock::time_point now) {
  const auto max_open = static_cast<std::size_t>(spec_.max_open_files);
  std::vector<Tail*> waiting;
  for (auto& p : tails_) {
    Tail& t = *p;
    if (t.detached) continue;
    if (t.fd >= 0) {
      const bool idle_for_rotate = now - t.last_active >= std::chrono::nanoseconds(spec_.rotate_wait_ns);
      if (t.finishing && t.at_eof && t.splitter.pending_bytes() == 0 && idle_for_rotate) {
        // at_eof is from the last read: bytes written since (just before
        // a delete, say) must be read before the file is let go.
        struct stat st {};
        if (::fstat(t.fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) > t.read_pos) {
          t.at_eof = false;
          continue;
        }
        detach(t, t.deleted ? "deleted, read to its end" : "renamed out of `paths`, read to its end");
      } else if (!t.finishing && t.at_eof && now - t.last_active >= std::chrono::nanoseconds(spec_.close_inactive_ns)) {
        core::log::debug(id_, t.path, ": inactive; closed");
        close_tail(t);
      }
    } else if (t.wants_open) {
      waiting.push_back(&t);
    }
  }
  if (open_files_ + waiting.size() > max_open) {
    // Make room: close the files idle the longest (reopened when they grow).
    std::vector<Tail*> idle;
    for (auto& p : tails_) {
      if (!p->detached && p->fd >= 0 && p->at_eof && !p->finishing) idle.push_back(p.get());
    }
    std::size_t need = std::min(open_files_ + waiting.size() - max_open, idle.size());
    std::partial_sort(idle.begin(), idle.begin() + static_cast<std::ptrdiff_t>(need), idle.end(),
                      [](const Tail* a, const Tail* b) { return a->last_active < b->last_active; });
    for (std::size_t i = 0; i < need; ++i) {
      close_tail(*idle[i]);
      idle[i]->wants_open = idle[i]->size > idle[i]->read_pos;
    }
  }
  bool opened = false;
  for (Tail* t : waiting) {
    if (open_files_ >= max_open) break;
    t->wants_open = false;
    opened = open_tail(*t) || opened;
  }
  // Forget detached files nothing can continue any more.
  const std::size_t before = tails_.size();
  std::erase_if(tails_, [&](const std::unique_ptr<Tail>& t) {
    return t->detached && t->tracker->pending() == 0 &&
           (t->forget || now - t->detached_at >= std::chrono::nanoseconds(spec_.forget_after_ns));
  });
  if (tails_.size() != before) changed();

  if (now >= next_checkpoint_) {
    next_checkpoint_ = now + kCheckpointEvery;
    save_checkpoint(/*force=*/false);
    publish_series();
  }
  return opened;
}

}  // namespace bifrost::inputs::file
