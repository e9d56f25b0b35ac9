// The file input under exactly-once delivery (pipeline/exactly_once.h): an
// output's transactions commit its checkpoint with the records it covers
// (in Kafka, a record of the output's offsets topic).
//
//   - At start the checkpoint committed in Kafka is read back; when it
//     differs from the local one (a crash between the two writes) it wins:
//     it was committed with the records.
//   - The local checkpoint only copies what was committed (never ahead of
//     it), so the two agree after a clean stop.
//   - At each commit the committer asks for the checkpoint of the files as
//     acknowledged then (positions()), from a view of the files the tailer
//     refreshes before it publishes a batch.
//   - A new epoch (an aborted transaction) takes the input back to the last
//     committed checkpoint, as a restart would.
#include "core/log.h"
#include "inputs/file/tailer.h"

namespace bifrost::inputs::file {

std::optional<std::string> Tailer::prefer_committed(std::optional<std::string> local) {
  core::log::info(id_, "exactly once: reading the checkpoint committed in Kafka");
  auto committed = eo_->recovered(id_, [&] { return ctx_->stopping(); });
  if (!committed) return local;  // none yet (exactly_once just turned on): the local one, if any
  if (local && *local == *committed) return local;
  core::log::info(id_, "the checkpoint committed in Kafka ",
                  local ? "differs from the local one" : "replaces the local one",
                  " (written apart from the transaction): Kafka's, committed with the records it covers, is used");
  return committed;
}

void Tailer::start_exactly_once() {
  epoch_ = eo_->epoch();
  // Until a transaction commits, a rewind goes back to where this run began.
  eo_->set_baseline(id_, state_now());
  refresh_view();
  eo_->attach(id_, this);
}

std::string Tailer::state_now() const {
  std::vector<SavedFile> files;
  files.reserve(tails_.size());
  for (const auto& t : tails_) {
    files.push_back(SavedFile{t->detached ? FileId{} : t->id, t->fp, t->acknowledged(), t->source, t->path,
                              t->seen_unix, t->detached});
  }
  return encode_state(files);
}

void Tailer::refresh_view() {
  std::lock_guard lock(view_mu_);
  view_.resize(tails_.size());
  for (std::size_t i = 0; i < tails_.size(); ++i) {
    const Tail& t = *tails_[i];
    Viewed& v = view_[i];
    v.file.id = t.detached ? FileId{} : t.id;
    v.file.fp = t.fp;
    v.file.source = t.source;
    v.file.path.assign(t.path);  // reuses its capacity: no allocation once warm
    v.file.seen_unix = t.seen_unix;
    v.file.detached = t.detached;
    if (v.tracker != t.tracker) v.tracker = t.tracker;
  }
  view_epoch_ = epoch_;
}

bool Tailer::positions(std::uint64_t epoch, pipeline::InputPositions& out) {
  std::vector<SavedFile> files;
  {
    std::lock_guard lock(view_mu_);
    if (view_epoch_ != epoch) return false;  // not yet back at the committed checkpoint
    files.reserve(view_.size());
    for (const Viewed& v : view_) {
      files.push_back(v.file);
      files.back().offset = v.tracker->acknowledged();
    }
  }
  out.state = encode_state(files);
  return true;
}

void Tailer::save_committed() {
  auto body = eo_->rewind_state(id_);
  if (!body || *body == saved_committed_) return;
  if (store_->save(*body)) saved_committed_ = std::move(*body);  // else reported by the store; tried again
}

void Tailer::rewind() {
  const std::uint64_t target = eo_->epoch();
  const auto body = eo_->rewind_state(id_);
  core::log::info(id_, "back to the committed checkpoint (the transaction was aborted); reading again from there");
  for (auto& t : tails_) {
    if (t->fd >= 0) close_tail(*t);
  }
  tails_.clear();
  live_.clear();
  deferred_.clear();
  open_files_ = 0;
  epoch_ = target;
  if (body) load_state(*body);
  had_checkpoint_ = true;  // start_at applied at the start already
  changed();
  scan(/*first=*/false);
  refresh_view();
}

}  // namespace bifrost::inputs::file
