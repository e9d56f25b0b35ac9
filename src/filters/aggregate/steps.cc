// Emitting closed windows, learning that they were delivered, and the saved
// state that lets a restart tell apart the events it must count again from
// the ones it counted already (README.md in this folder).
#include <cstring>

#include "core/log.h"
#include "core/time.h"
#include "filters/aggregate/metric_families.h"
#include "filters/aggregate/stage.h"
#include "filters/common/hash.h"
#include "filters/common/value_key.h"

namespace bifrost::filters::aggregate {

namespace {

constexpr std::size_t kEventsPerBatch = 1024;
constexpr std::string_view kMagic = "bifrost-aggregate 1";

// RFC 3339, whole seconds as "...:SSZ".
core::Value time_text(std::int64_t ns, core::Arena& arena) {
  char buf[core::kRfc3339NsLen];
  core::format_rfc3339_ns(ns, buf);
  std::string_view s(buf, sizeof buf);
  if (ns % 1'000'000'000 == 0) {
    char whole[20];
    std::memcpy(whole, buf, 19);
    whole[19] = 'Z';
    return core::Value::string(arena.copy({whole, sizeof whole}));
  }
  return core::Value::string(arena.copy(s));
}

}  // namespace

void AggregateStage::emit_step(std::vector<std::unique_ptr<Window>> closing, pipeline::StageContext& ctx) {
  Step step{next_step_++, closed_through_, {}, {}};
  for (const auto& w : closing) {
    step.closed_through = std::max(step.closed_through, w->start() + spec_.window_ns);
  }
  closed_through_ = step.closed_through;
  step.positions = step_positions_ = positions_;
  core::Batch* out = nullptr;
  bool broken = false;
  for (auto& w : closing) {
    emit_window(*w, /*late=*/false, out, step.id, ctx, broken);
    for (core::AckHold& h : w->take_holds()) step.holds.push_back(std::move(h));
  }
  for (auto& w : late_) {
    emit_window(*w, /*late=*/true, out, step.id, ctx, broken);
    for (core::AckHold& h : w->take_holds()) step.holds.push_back(std::move(h));
  }
  late_.clear();
  send(out, step.id, ctx);
  if (broken) {
    // Delivery was given up (stopping past the deadline): these windows
    // are not all out, so their holds stay (the next start rebuilds them)
    // and nothing after them is released either.
    broken_ = true;
    step.holds.clear();  // dropped without release: held for good in this run
  }
  steps_.push_back(std::move(step));
}

// Past max_groups: what the window holds goes out now (counted, not exact:
// a later event of these groups makes a second, partial emission) and the
// window starts again; its holds stay with it. The saved state does not
// move (the step carries the last one again): every event of the window is
// read again after a crash.
void AggregateStage::emit_early(Window& w, pipeline::StageContext& ctx) {
  ++early_;
  core::log::warn(id_, "a window reached max_groups (", spec_.max_groups, "): its groups are emitted early");
  Step step{next_step_++, closed_through_, {}, step_positions_};
  core::Batch* out = nullptr;
  bool broken = false;
  emit_window(w, /*late=*/false, out, step.id, ctx, broken);
  send(out, step.id, ctx);
  broken_ = broken_ || broken;
  steps_.push_back(std::move(step));
  w.clear_groups();
}

// Adds one event per group of `w` to `batch` (sending full batches on).
void AggregateStage::emit_window(const Window& w, bool late, core::Batch*& batch, std::uint64_t step,
                                 pipeline::StageContext& ctx, bool& broken) {
  for (std::size_t g = 0; g < w.groups() && !broken; ++g) {
    if (batch && batch->events.size() >= kEventsPerBatch) send(batch, step, ctx);
    if (!batch) {
      batch = ctx.acquire();
      if (!batch) {
        broken = true;
        return;
      }
    }
    core::Batch& b = *batch;
    core::Arena& arena = b.arena;
    core::Event& e = b.events.emplace_back();
    e.timestamp_ns = w.start();
    // Its identity: the same window and group (and late part) has the same
    // offset each time it is emitted, so that an output's id made of the
    // source and offset (Elasticsearch's document_id: auto) overwrites.
    std::string_view key = w.key(g);
    e.offset = hash64(key, static_cast<std::uint64_t>(w.start())) ^ (late ? 0x6c617465ull : 0);
    const auto size = static_cast<std::uint32_t>(2 + spec_.group_by.size() + spec_.metrics.size());
    e.fields = core::Value::object(arena, size);
    core::Value window = core::Value::object(arena, 2);
    window.append("start", time_text(w.start(), arena), arena);
    window.append("end", time_text(w.start() + spec_.window_ns, arena), arena);
    e.fields.append("window", window, arena);
    for (const core::FieldPath& path : spec_.group_by) core::set_field(e, path, read_key(key, arena), arena);
    const Cell* cells = w.cells(g);
    for (std::size_t m = 0; m < spec_.metrics.size(); ++m) {
      if (auto v = result(cells[cell_of_[m]], spec_.metrics[m])) core::set_field(e, spec_.metrics[m].out, *v, arena);
    }
    if (late) e.fields.set("late", core::Value::boolean(true), arena);
    ++emitted_events_;
  }
}

// Sends the batch being filled (if any) on, tracked as part of `step`; a
// step that emits nothing still gets a finished entry, so that steps
// finish in order.
void AggregateStage::send(core::Batch*& batch, std::uint64_t step, pipeline::StageContext& ctx) {
  if (!batch || batch->events.empty()) {
    if (batch) batch->release();
    batch = nullptr;
    emitted_->complete(emitted_->track(step + 1));
    return;
  }
  batch->ingest_ns = core::now_ns();
  batch->source = id_;
  batch->source_id = hash64(id_, 0x616767) | 1;
  batch->tracker = emitted_;
  batch->ack_seq = emitted_->track(step + 1);
  ctx.emit(batch);
  batch = nullptr;
}

// A step is finished when every event it emitted is (delivered, parked, or
// dropped after the stage): the state saying so is written first, then
// its holds go, so that a crash between the two finds either the state
// (the events are known as counted) or the holds (the windows are read
// again whole and emitted again with the same values).
void AggregateStage::commit() {
  if (broken_) return;
  const std::uint64_t acked = emitted_->acknowledged();
  std::size_t n = 0;
  while (n < steps_.size() && steps_[n].id + 1 <= acked) ++n;
  if (n == 0) return;
  if (state_.enabled()) {
    const Step& last = steps_[n - 1];
    StateWriter w;
    w.bytes(kMagic);
    w.i64(last.closed_through);
    last.positions.encode(w);
    if (!state_.save(w)) return;  // reported; tried again at the next tick, the holds stay meanwhile
  }
  for (std::size_t k = 0; k < n; ++k) {
    for (core::AckHold& h : steps_.front().holds) h.done();
    steps_.pop_front();
  }
}

void AggregateStage::load_state(core::Clock::time_point now) {
  auto body = state_.load();
  if (!body) return;
  StateReader r(*body);
  const bool magic = r.bytes() == kMagic;
  const std::int64_t closed = r.i64();
  SourcePositions positions;
  if (!magic || !positions.decode(r) || !r.at_end()) {
    state_.set_aside(magic ? "truncated or malformed" : "not an aggregate's state");
    return;
  }
  loaded_closed_through_ = closed_through_ = closed;
  loaded_positions_ = positions;
  step_positions_ = positions;
  positions_ = std::move(positions);
  // Every source read before the crash holds the windows still open until
  // it is heard from again (or silent for idle_timeout): a partition whose
  // first fetch comes first must not close minutes another one still has
  // events for.
  positions_.each_source([&](std::uint64_t src) { sources_.try_emplace(src, SourceClock{closed, now}); });
  char when[core::kRfc3339NsLen];
  core::format_rfc3339_ns(closed, when);
  core::log::info(id_, "state: the windows ending at or before ", std::string_view(when, sizeof when),
                  " are emitted and delivered; ", positions_.size(), " source(s) known");
}

void AggregateStage::publish(pipeline::StageContext& ctx) {
  std::size_t groups = 0, bytes = 0;
  for (const auto& w : windows_) {
    groups += w->groups();
    bytes += w->bytes();
  }
  for (const auto& w : late_) bytes += w->bytes();
  using core::Series;
  auto d = [](auto v) { return static_cast<double>(v); };
  std::vector<Series> s{
      {&kOpenWindows, {}, d(windows_.size())},
      {&kGroups, {}, d(groups)},
      {&kLate, {}, d(late_count_)},
      {&kReplayed, {}, d(replayed_)},
      {&kEarly, {}, d(early_)},
      {&kEmitted, {}, d(emitted_events_)},
      {&kStateBytes, {}, d(bytes)},
      {&kStateErrors, {}, d(state_errors_.load())},
  };
  for (std::size_t m = 0; m < spec_.metrics.size(); ++m) {
    if (spec_.metrics[m].kind == MetricKind::kCount) continue;
    s.push_back({&kSkipped, {spec_.metrics[m].name, "missing"}, d(skipped_[m * 2])});
    if (spec_.metrics[m].kind != MetricKind::kCountDistinct) {
      s.push_back({&kSkipped, {spec_.metrics[m].name, "not_a_number"}, d(skipped_[m * 2 + 1])});
    }
  }
  ctx.stats().series.replace(std::move(s));
}

std::unique_ptr<pipeline::StatefulStage> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<AggregateStage>(*this, ctx);
}

}  // namespace bifrost::filters::aggregate
