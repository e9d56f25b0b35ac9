#include "inputs/journald/reader.h"

#include <systemd/sd-journal.h>

#include <cstring>
#include <thread>

#include "core/log.h"
#include "core/time.h"
#include "inputs/journald/entry.h"
#include "inputs/journald/state.h"

namespace bifrost::inputs::journald {

namespace {
constexpr std::string_view kCutTag = "line_cut";
}

Reader::Reader(const Spec& spec, const pipeline::BuildContext& ctx)
    : spec_(spec), id_(ctx.component), pipeline_(ctx.pipeline), data_dir_(ctx.data_dir), clock_(*ctx.clock) {}

Reader::~Reader() { close_journal(); }

void Reader::close_journal() {
  if (j_) sd_journal_close(j_);
  j_ = nullptr;
}

bool Reader::open() {
  int r = spec_.directory.empty() ? sd_journal_open(&j_, SD_JOURNAL_LOCAL_ONLY)
                                  : sd_journal_open_directory(&j_, spec_.directory.c_str(), 0);
  if (r < 0) {
    j_ = nullptr;
    core::log::error(id_, "cannot open the journal", spec_.directory.empty() ? "" : " in ", spec_.directory, ": ",
                     std::strerror(-r), " (tried again every second)");
    return false;
  }
  // Fields up to max_field_bytes, and one byte more to know a longer one.
  sd_journal_set_data_threshold(j_, static_cast<std::size_t>(spec_.max_field_bytes) + 1);
  for (const auto& u : spec_.units) {
    const std::string m = "_SYSTEMD_UNIT=" + u;
    sd_journal_add_match(j_, m.data(), m.size());
  }
  if (spec_.priority < 7) {
    for (int p = 0; p <= spec_.priority; ++p) {
      const std::string m = "PRIORITY=" + std::to_string(p);
      sd_journal_add_match(j_, m.data(), m.size());
    }
  }
  core::log::info(id_, "reading the journal", spec_.directory.empty() ? " (local)" : " in ", spec_.directory);
  return true;
}

// Where reading starts: just after the checkpointed cursor; or start_at.
void Reader::position() {
  if (!start_cursor_.empty()) {
    if (sd_journal_seek_cursor(j_, start_cursor_.c_str()) >= 0) {
      // seek_cursor lands on the entry, or the nearest one if it is gone
      // (vacuumed): skip it only when it is the very entry acknowledged.
      if (sd_journal_next(j_) > 0 && sd_journal_test_cursor(j_, start_cursor_.c_str()) <= 0) sd_journal_previous(j_);
      core::log::info(id_, "resuming after the checkpointed cursor");
      return;
    }
    core::log::warn(id_, "the checkpointed cursor is not valid; starting at start_at");
  }
  if (spec_.start_at_end) {
    sd_journal_seek_tail(j_);
    sd_journal_previous(j_);  // on the last entry: the next one read is new
  } else {
    sd_journal_seek_head(j_);
  }
}

std::size_t Reader::fill(core::Batch& b, std::string& cursor) {
  std::size_t n = 0;
  while (n < static_cast<std::size_t>(spec_.batch_events)) {
    int r = sd_journal_next(j_);
    if (r < 0) {
      core::log::warn(id_, "reading the journal: ", std::strerror(-r));
      break;
    }
    if (r == 0) break;
    core::Event& e = b.events.emplace_back();
    EntryBuilder entry(b, e);
    const void* data;
    std::size_t len;
    bool cut = false;
    SD_JOURNAL_FOREACH_DATA(j_, data, len) {
      std::string_view d(static_cast<const char*>(data), len);
      const std::size_t eq = d.find('=');
      if (eq == std::string_view::npos) continue;
      if (d.size() - eq - 1 > spec_.max_field_bytes) {
        d = d.substr(0, eq + 1 + spec_.max_field_bytes);
        cut = true;
      }
      d = b.arena.copy(d);
      entry.field(d.substr(0, eq), d.substr(eq + 1));
    }
    std::uint64_t usec = 0;
    sd_journal_get_realtime_usec(j_, &usec);
    entry.finish(static_cast<std::int64_t>(usec));
    if (cut) core::add_tag(e, kCutTag, b.arena);
    ++n;
    // Taken for every entry: once sd_journal_next() has found nothing
    // more, the read pointer is on no entry and has no cursor to give.
    char* c = nullptr;
    if (sd_journal_get_cursor(j_, &c) >= 0 && c) {
      cursor.assign(c);
      std::free(c);
    }
  }
  return n;
}

std::string Reader::acknowledged_cursor() {
  const std::uint64_t acked = tracker_->acknowledged();
  std::lock_guard lock(cursors_mu_);
  while (!cursors_.empty() && cursors_.front().first <= acked) {
    if (!cursors_.front().second.empty()) acked_cursor_ = std::move(cursors_.front().second);
    cursors_.pop_front();
  }
  return acked_cursor_;
}

// The durable copy, every second (and at a stop); the follower keeps the
// live one in step with each acknowledgement (checkpoint_follower.h).
// `force` (a stop): written even when unchanged, as the cursor loaded may
// have come from the live copy. False when a write failed.
bool Reader::save_checkpoint(bool force) {
  const auto now = clock_.now();
  if (!force && now < next_checkpoint_) return true;
  next_checkpoint_ = now + std::chrono::seconds(1);
  const std::string acked = acknowledged_cursor();
  if (!store_ || acked.empty() || (!force && acked == saved_cursor_)) return true;
  if (!store_->save(encode_state(acked))) return false;  // reported by the store; tried again next second
  saved_cursor_ = acked;
  return true;
}

void Reader::run(pipeline::InputContext& ctx) {
  stats_ = &ctx.stats();
  store_.emplace(data_dir_, pipeline_, id_, stats_);
  if (auto body = store_->load(); body) {
    if (auto cursor = decode_state(*body); cursor) {
      start_cursor_ = saved_cursor_ = acked_cursor_ = *cursor;
    } else {
      core::log::error(id_, cursor.error().message, "; starting at start_at");
    }
  }
  while (!ctx.stopping() && !open()) {
    // Real time, not the pipeline's clock: a stop is noticed within the
    // second, also when a test's clock stands still.
    for (int i = 0; i < 10 && !ctx.stopping(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!j_) return;
  position();
  follower_ = std::make_unique<delivery::CheckpointFollower>(
      *store_, progress_, clock_,
      [this](std::string& out) {
        const std::string cursor = acknowledged_cursor();
        out = cursor.empty() ? std::string() : encode_state(cursor);
      },
      id_);
  core::Batch* b = nullptr;
  while (!ctx.stopping()) {
    save_checkpoint(false);
    if (!b) {
      b = ctx.acquire_for(std::chrono::milliseconds(100));  // held back: the journal waits on disk
      if (!b) continue;
    }
    std::string cursor;
    const std::size_t n = fill(*b, cursor);
    if (n > 0) {
      published_ += n;
      b->ingest_ns = core::now_ns();
      b->tracker = tracker_;
      b->ack_seq = tracker_->track(published_);
      {
        std::lock_guard lock(cursors_mu_);
        cursors_.emplace_back(published_, std::move(cursor));
      }
      ctx.publish(b);
      b = nullptr;
      continue;
    }
    // At the end: wait for more (this also takes in rotated and removed files).
    sd_journal_wait(j_, 100'000);
  }
  if (b) b->release();
}

void Reader::drained() {
  if (follower_) follower_->stop();
  // Saved durably: the live copy has nothing more to say.
  if (store_ && save_checkpoint(true)) store_->drop_live();
  close_journal();
}

}  // namespace bifrost::inputs::journald
