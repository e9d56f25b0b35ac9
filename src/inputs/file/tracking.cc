// The file input's discovery and identity (see tailer.h): which files
// `paths` matches now, whether a file is one already known (its inode and
// fingerprint), a copy of a detached one, or new; truncation, deletion and
// renames.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "core/time.h"
#include "inputs/file/tailer.h"

namespace bifrost::inputs::file {
// ---- discovery and identity -------------------------------------------------

void Tailer::scan(bool first) {
  rescan_ = false;
  next_scan_ = clock_.now() + std::chrono::nanoseconds(spec_.scan_interval_ns);
  watcher_->refresh();
  const std::vector<Found> found = discover(spec_.paths, spec_.exclude);
  for (auto& t : tails_) t->matched = false;
  std::vector<const Found*> unknown;
  for (const Found& f : found) {
    if (auto it = live_.find(f.id); it != live_.end()) {
      track_known(*it->second, f, first);
    } else {
      unknown.push_back(&f);
    }
  }
  // Live files no scan found: renamed out of `paths`, or deleted.
  for (std::size_t i = 0; i < tails_.size(); ++i) {
    Tail& t = *tails_[i];
    if (t.detached || t.matched) continue;
    if (t.fd < 0) {
      detach(t, "no longer found");
    } else if (!t.finishing) {
      t.finishing = true;
      core::log::info(id_, t.path, ": no longer in `paths` (renamed or deleted); reading it to its end");
    }
  }
  for (const Found* f : unknown) track_unknown(*f, first);
  std::erase_if(deferred_, [&](const auto& kv) {
    return std::none_of(found.begin(), found.end(), [&](const Found& f) { return f.id == kv.first; });
  });
}

void Tailer::track_known(Tail& t, const Found& f, bool first) {
  t.matched = true;
  t.seen_unix = unix_now();
  if (t.path != f.path) {
    core::log::debug(id_, t.path, ": now at ", f.path);
    t.path = f.path;
    changed();
  }
  if (t.finishing && !t.deleted) t.finishing = false;  // back in `paths`
  if (t.fd >= 0) return;                               // pump() watches open files
  if (!first && f.size == t.size && !t.wants_open) return;
  struct stat st {};
  auto opened = open_checked(f.path, f.id, st);
  if (!opened) return;  // changed under us: the next scan sees it
  const int fd = *opened;
  const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  if (!read_head(fd, size, prefix_)) {
    ::close(fd);
    return;
  }
  const bool shorter = size < t.read_pos && !t.filling;
  if (!prefix_matches(prefix_, t.fp) || shorter) {
    restart_from_zero(t, prefix_, shorter ? "truncated" : "another file now (inode reused or rewritten)");
  } else if (prefix_.size() > t.fp.len) {
    t.fp = fingerprint_of(prefix_);
    changed();
  }
  t.size = size;
  if (size > t.read_pos && open_files_ < static_cast<std::size_t>(spec_.max_open_files)) {
    t.fd = fd;
    ++open_files_;
    t.at_eof = false;
    t.wants_open = false;
    t.last_active = clock_.now();
  } else {
    ::close(fd);
    t.wants_open = size > t.read_pos;
  }
}

void Tailer::track_unknown(const Found& f, bool first) {
  struct stat st {};
  auto opened = open_checked(f.path, f.id, st);
  if (!opened) return;
  const int fd = *opened;
  const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  if (!read_head(fd, size, prefix_)) {
    ::close(fd);
    return;
  }
  // An empty file is followed at once (a new log may be renamed away soon
  // after its first lines); whether it is a copy of another file is looked
  // at again when its first bytes arrive (pump()).
  const auto now = clock_.now();
  // A detached file this one continues (the newest, when several match).
  Tail* continued = nullptr;
  for (auto& t : tails_) {
    if (prefix_.empty()) break;
    if (t->detached && t->fp.len > 0 && prefix_matches(prefix_, t->fp) &&
        (!continued || t->detached_at > continued->detached_at)) {
      continued = t.get();
    }
  }
  if (continued) {
    adopt(*continued, f, fd);
    return;
  }
  // A copy of a live file: copytruncate between its copy and its truncate,
  // or a plain copy. Look at the original again.
  for (std::size_t i = 0; i < tails_.size() && !prefix_.empty(); ++i) {
    Tail& t = *tails_[i];
    if (t.detached || t.fp.len == 0 || !prefix_matches(prefix_, t.fp)) continue;
    if (!check_intact(t)) {  // truncated: its old content is the newest detached tail
      adopt(*tails_.back(), f, fd);
      return;
    }
    if (t.deleted) {  // the original's continuation, adopted once it is read to its end and let go
      ::close(fd);
      return;
    }
    auto [it, fresh] = deferred_.try_emplace(f.id, now);
    if (fresh)
      core::log::debug(id_, f.path, ": same first bytes as ", t.path, "; waiting to see whether it is a rotated copy");
    if (now - it->second < std::chrono::nanoseconds(spec_.rotate_wait_ns)) {
      ::close(fd);
      return;
    }
    deferred_.erase(it);
    core::log::info(id_, f.path, ": a copy of ", t.path, " whose original stays; reading it as a file of its own");
    break;
  }
  Tail& t = add_tail(f.id, f.path);
  t.fp = fingerprint_of(prefix_);
  t.source = source_id(f.id, t.fp);
  const bool from_end = first && !had_checkpoint_ && spec_.start_at_end;
  const std::uint64_t start = from_end ? size : 0;
  t.read_pos = start;
  t.splitter.reset(start);
  t.tracker = new_tracker(start);
  t.size = size;
  core::log::info(id_, f.path, ": following from offset ", start);
  if (open_files_ < static_cast<std::size_t>(spec_.max_open_files)) {
    t.fd = fd;
    ++open_files_;
    t.last_active = now;
  } else {
    ::close(fd);
    t.wants_open = true;
  }
}

Tail& Tailer::add_tail(const FileId& id, const std::string& path) {
  auto t = std::make_unique<Tail>();
  t->id = id;
  t->path = path;
  t->seen_unix = unix_now();
  t->splitter.configure(spec_.max_line_bytes, static_cast<std::size_t>(spec_.batch_events));
  t->tracker = new_tracker(0);
  live_[id] = t.get();
  tails_.push_back(std::move(t));
  changed();
  return *tails_.back();
}

// `t`'s inode holds other content now. What was read of the old content
// becomes a detached tail (its rotated copy may continue it); `t` follows the
// inode from its start, with `prefix` (its first bytes now) as fingerprint.
void Tailer::restart_from_zero(Tail& t, const std::string& prefix, const char* why) {
  core::log::info(id_, t.path, ": ", why, " at offset ", t.read_pos, "; reading it from the start");
  auto old = std::make_unique<Tail>();
  old->fp = t.fp;
  old->source = t.source;
  old->path = t.path;
  old->splitter = std::move(t.splitter);
  old->splitter.rewind();
  old->read_pos = old->splitter.offset();
  old->size = t.size;
  old->tracker = std::move(t.tracker);
  old->saved_offset = t.saved_offset;
  old->seen_unix = unix_now();
  old->detached = true;
  old->matched = false;
  old->detached_at = clock_.now();

  t.fp = fingerprint_of(prefix);
  t.source = source_id(t.id, t.fp);
  t.read_pos = 0;
  t.size = 0;
  t.splitter = LineSplitter(0);
  t.splitter.configure(spec_.max_line_bytes, static_cast<std::size_t>(spec_.batch_events));
  t.tracker = new_tracker(0);
  t.saved_offset = ~0ull;
  t.at_eof = false;
  t.open_group_offset = ~0ull;
  tails_.push_back(std::move(old));
  changed();
  rescan_ = true;  // look for the copy soon
}

// Whether live `t` still holds what was read of it; if not, restarts it.
bool Tailer::check_intact(Tail& t) {
  if (t.filling) return true;  // a copy still being written: nothing to judge yet
  struct stat st {};
  int fd = t.fd;
  if (fd < 0) {
    auto opened = open_checked(t.path, t.id, st);
    if (!opened) return true;  // gone from its path: the scan deals with it
    fd = *opened;
  } else if (::fstat(fd, &st) != 0) {
    return true;
  }
  const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  std::string now_prefix;
  const bool ok = read_head(fd, size, now_prefix).has_value();
  if (fd != t.fd) ::close(fd);
  if (!ok) return true;
  if (st.st_nlink == 0) {  // deleted: read to its end first, then a copy may continue it
    note_deleted(t);
    return true;
  }
  if (size < t.read_pos || size < t.size) {
    restart_from_zero(t, now_prefix, "truncated");
    return false;
  }
  if (!prefix_matches(now_prefix, t.fp)) {
    restart_from_zero(t, now_prefix, "rewritten in place");
    return false;
  }
  return true;
}

void Tailer::note_deleted(Tail& t) {
  if (t.deleted) return;
  t.deleted = t.finishing = true;
  core::log::info(id_, t.path, ": deleted; reading it to its end, then keeping it open `rotate_wait` for late writes");
}

void Tailer::adopt(Tail& d, const Found& f, int fd) {
  core::log::info(id_, f.path, ": continues ", d.path, " (same first bytes); reading it from offset ",
                  d.splitter.offset());
  d.detached = false;
  d.id = f.id;
  d.path = f.path;
  d.matched = true;
  d.finishing = false;
  d.deleted = false;
  d.splitter.rewind();
  d.read_pos = d.splitter.offset();
  d.size = f.size;
  d.filling = f.size < d.read_pos;
  d.at_eof = false;
  d.seen_unix = unix_now();
  d.last_active = clock_.now();
  live_[f.id] = &d;
  deferred_.erase(f.id);
  changed();
  if (open_files_ < static_cast<std::size_t>(spec_.max_open_files)) {
    d.fd = fd;
    ++open_files_;
  } else {
    ::close(fd);
    d.wants_open = true;
  }
}

void Tailer::detach(Tail& t, const char* why) {
  core::log::info(id_, t.path, ": released (", why, ") at offset ", t.read_pos);
  if (t.fd >= 0) close_tail(t);
  live_.erase(t.id);
  t.id = FileId{};
  t.detached = true;
  t.detached_at = clock_.now();
  t.seen_unix = unix_now();
  t.wants_open = false;
  changed();
}

}  // namespace bifrost::inputs::file
