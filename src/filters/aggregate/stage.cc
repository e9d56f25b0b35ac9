#include "filters/aggregate/stage.h"

#include <algorithm>

#include "core/log.h"
#include "filters/common/hash.h"
#include "filters/common/value_key.h"

namespace bifrost::filters::aggregate {

namespace {

constexpr const char* kAggregated = "aggregated";  // pass: false
constexpr const char* kLateReason = "late";

std::int64_t floor_to(std::int64_t t, std::int64_t step) {
  std::int64_t q = t / step;
  if (t % step != 0 && t < 0) --q;
  return q * step;
}

}  // namespace

AggregateStage::AggregateStage(const Spec& spec, const pipeline::BuildContext& ctx)
    : spec_(spec),
      id_(ctx.component),
      state_(ctx, &state_errors_, "windows already emitted may be emitted again, counting only what is read again"),
      emitted_(std::make_shared<core::AckTracker>()),
      skipped_(spec.metrics.size() * 2, 0) {
  for (const MetricSpec& m : spec_.metrics) {
    int f = -1;
    if (m.field) {
      for (std::size_t k = 0; k < fields_.size(); ++k) {
        if (fields_[k].text() == m.field->text()) f = static_cast<int>(k);
      }
      if (f < 0) {
        fields_.push_back(*m.field);
        hashed_.push_back(false);
        numeric_.push_back(false);
        f = static_cast<int>(fields_.size() - 1);
      }
      const auto k = static_cast<std::size_t>(f);
      if (m.kind == MetricKind::kCountDistinct) {
        hashed_[k] = true;
      } else {
        numeric_[k] = true;
      }
    }
    field_of_.push_back(f);
    std::size_t cell = field_of_.size() - 1;
    for (std::size_t k = 0; k + 1 < field_of_.size(); ++k) {
      if (m.kind == MetricKind::kPercentile && spec_.metrics[k].kind == MetricKind::kPercentile && field_of_[k] == f) {
        cell = k;
        break;
      }
    }
    cell_of_.push_back(cell);
  }
  inputs_.resize(fields_.size());
}

// Open windows are not emitted at stop: their holds stay, the inputs'
// checkpoints with them, and the next start rebuilds the windows.
AggregateStage::~AggregateStage() = default;

void AggregateStage::start(pipeline::StageContext& ctx) { load_state(ctx.clock().now()); }

Window& AggregateStage::window_for(std::int64_t start) {
  if (last_ && last_->start() == start) return *last_;
  auto it = std::lower_bound(windows_.begin(), windows_.end(), start,
                             [](const std::unique_ptr<Window>& w, std::int64_t s) { return w->start() < s; });
  if (it == windows_.end() || (*it)->start() != start) {
    it = windows_.insert(it, std::make_unique<Window>(start, spec_.metrics.size()));
  }
  last_ = it->get();
  return *last_;
}

Window& AggregateStage::late_window_for(std::int64_t start) {
  for (auto& w : late_) {
    if (w->start() == start) return *w;
  }
  late_.push_back(std::make_unique<Window>(start, spec_.metrics.size()));
  return *late_.back();
}

void AggregateStage::process(core::Batch& batch, std::span<const std::uint32_t> events, pipeline::StageContext& ctx) {
  if (events.empty()) {
    positions_.note(batch);
    return;
  }
  const std::uint64_t src = source_key(batch);
  const std::int64_t window = spec_.window_ns;
  std::int64_t newest = INT64_MIN;
  for (std::uint32_t i : events) {
    core::Event& e = batch.events[i];
    const std::int64_t t = e.timestamp_ns != 0 ? e.timestamp_ns : batch.ingest_ns;
    const std::int64_t start = floor_to(t, window);
    if (start + window <= closed_through_) {
      on_closed_window(batch, e, src, start, ctx);
      continue;
    }
    newest = std::max(newest, t);
    add(window_for(start), batch, e, ctx);
    if (!spec_.pass) e.drop_reason = kAggregated;
  }
  positions_.note(batch);
  if (newest != INT64_MIN) {
    auto [it, fresh] = sources_.try_emplace(src, SourceClock{newest, ctx.clock().now()});
    if (!fresh) {
      it->second.max_ns = std::max(it->second.max_ns, newest);
      it->second.heard = ctx.clock().now();
    }
  }
  advance(ctx, /*ticking=*/false);
}

void AggregateStage::add(Window& w, core::Batch& batch, core::Event& e, pipeline::StageContext& ctx) {
  key_.clear();
  for (const core::FieldPath& g : spec_.group_by) append_key(key_, core::get_field(e, g));
  const std::uint64_t h = hash64(key_);
  const auto max_groups = static_cast<std::size_t>(spec_.max_groups);
  Cell* cells = w.group(h, key_, max_groups);
  if (!cells) {
    // Past max_groups: what the window holds goes out now (counted, not
    // exact: a later event of these groups makes a second, partial
    // emission) and the window starts again. Its holds stay.
    emit_early(w, ctx);
    cells = w.group(h, key_, max_groups);
  }
  w.hold(batch);
  for (std::size_t f = 0; f < fields_.size(); ++f)
    inputs_[f] = read_input(core::get_field(e, fields_[f]), numeric_[f], hashed_[f]);
  static const Input kNone;
  for (std::size_t m = 0; m < spec_.metrics.size(); ++m) {
    const int f = field_of_[m];
    const Input& in = f < 0 ? kNone : inputs_[static_cast<std::size_t>(f)];
    if (cell_of_[m] != m) {  // shares an earlier percentile's sketch: counted there
      if (in.kind != Input::Kind::kNumber) ++skipped_[m * 2 + (in.kind == Input::Kind::kMissing ? 0 : 1)];
      continue;
    }
    if (!update(cells[m], spec_.metrics[m], in)) {
      ++skipped_[m * 2 + (in.kind == Input::Kind::kMissing ? 0 : 1)];
    }
  }
}

// An event for a window at or before closed_through_: emitted already.
void AggregateStage::on_closed_window(core::Batch& batch, core::Event& e, std::uint64_t src, std::int64_t start,
                                      pipeline::StageContext& ctx) {
  if (start + spec_.window_ns <= loaded_closed_through_ && loaded_positions_.covers(src, e.offset)) {
    // Read again after a restart: it was counted in a window that was
    // emitted and delivered before the state was saved.
    ++replayed_;
    if (!spec_.pass) e.drop_reason = kAggregated;
    return;
  }
  ++late_count_;
  switch (spec_.late) {
    case Late::kDrop: e.drop_reason = kLateReason; return;
    case Late::kTag: core::add_tag(e, "late", batch.arena); return;
    case Late::kSeparate:
      add(late_window_for(start), batch, e, ctx);
      if (!spec_.pass) e.drop_reason = kAggregated;
      return;
  }
}

// The watermark is the event time every source has reached: the lowest of
// the sources heard from within idle_timeout. A source silent for longer
// stops holding windows open; when every source is silent, the time moves
// on from the latest event time as processing time passes (a live log
// going quiet still gets its last windows closed). It never goes back.
void AggregateStage::advance(pipeline::StageContext& ctx, bool ticking) {
  if (!sources_.empty()) {
    const auto now = ctx.clock().now();
    const auto idle = std::chrono::nanoseconds(spec_.idle_timeout_ns);
    std::int64_t low = INT64_MAX, high = INT64_MIN;
    core::Clock::time_point last_heard{};
    for (const auto& [_, s] : sources_) {
      if (now - s.heard < idle) low = std::min(low, s.max_ns);
      high = std::max(high, s.max_ns);
      last_heard = std::max(last_heard, s.heard);
    }
    std::int64_t w = low;
    if (low == INT64_MAX) {
      const auto quiet = std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_heard).count();
      w = high > INT64_MAX - quiet ? INT64_MAX : high + quiet;
    }
    watermark_ = std::max(watermark_, w);
  }
  const std::int64_t wait = spec_.window_ns + spec_.allowed_lateness_ns;
  std::size_t n = 0;
  while (n < windows_.size() && windows_[n]->start() <= watermark_ - wait) ++n;
  if (n == 0 && !(ticking && !late_.empty())) return;
  std::vector<std::unique_ptr<Window>> closing(std::make_move_iterator(windows_.begin()),
                                               std::make_move_iterator(windows_.begin() + static_cast<long>(n)));
  windows_.erase(windows_.begin(), windows_.begin() + static_cast<long>(n));
  last_ = nullptr;
  emit_step(std::move(closing), ctx);
}

void AggregateStage::tick(pipeline::StageContext& ctx) {
  advance(ctx, /*ticking=*/true);
  commit();
  if (ctx.clock().now() >= next_publish_) {
    publish(ctx);
    next_publish_ = ctx.clock().now() + std::chrono::seconds(1);
  }
  // Forget sources silent for long (rotated files, revoked partitions):
  // they hold no window open any more. The one heard last stays, for the
  // time to move on from when every source is quiet.
  const auto now = ctx.clock().now();
  const auto forget = std::chrono::nanoseconds(spec_.idle_timeout_ns) * 10;
  std::uint64_t latest = 0;
  core::Clock::time_point heard{};
  for (const auto& [src, s] : sources_) {
    if (s.heard >= heard) latest = src, heard = s.heard;
  }
  std::erase_if(sources_, [&](const auto& kv) { return kv.first != latest && now - kv.second.heard > forget; });
}

// Every input has ended: nothing will come for the open windows.
void AggregateStage::finish(pipeline::StageContext& ctx) {
  last_ = nullptr;
  if (windows_.empty() && late_.empty()) return;
  emit_step(std::move(windows_), ctx);
  windows_.clear();
}

void AggregateStage::stop(pipeline::StageContext& ctx) {
  commit();
  publish(ctx);
  if (!windows_.empty()) {
    core::log::info(id_, windows_.size(),
                    " open window(s) stay open: the inputs read them again at the next start (their checkpoints "
                    "wait for them)");
  }
}

}  // namespace bifrost::filters::aggregate
