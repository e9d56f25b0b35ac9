#include "filters/throttle/throttle_stage.h"

#include <charconv>

#include "config/expr_reader.h"
#include "core/log.h"
#include "filters/common/hash.h"
#include "filters/common/snapshot_holds.h"
#include "filters/common/stage_state.h"
#include "filters/throttle/buckets.h"
#include "filters/throttle/metric_families.h"

namespace bifrost::filters::throttle {

namespace {

constexpr const char* kThrottled = "throttled";
constexpr std::string_view kMagic = "bifrost-throttle 1";

class ThrottleStage final : public pipeline::StatefulStage {
 public:
  ThrottleStage(const Spec& spec, const pipeline::BuildContext& ctx)
      : spec_(spec),
        id_(ctx.component),
        state_(ctx, &state_errors_, "every key starts with a full bucket"),
        buckets_(spec.events, spec.per_ns, spec.burst ? spec.burst : spec.events,
                 static_cast<std::size_t>(spec.max_keys)) {}

  void start(pipeline::StageContext& ctx) override {
    load();
    next_save_ = ctx.clock().now() + std::chrono::nanoseconds(spec_.save_interval_ns);
  }

  void process(core::Batch& batch, std::span<const std::uint32_t> events, pipeline::StageContext&) override {
    holds_.on_batch(batch);
    const std::uint64_t src = source_key(batch);
    for (std::uint32_t i : events) {
      core::Event& e = batch.events[i];
      // Read again after a restart, from before the saved buckets: it was
      // counted in them already, so it goes on without taking credit.
      if (loaded_.covers(src, e.offset)) continue;
      std::uint64_t key = 0;
      if (spec_.key) {
        key_.clear();
        spec_.key->render(e, key_);  // a missing field renders as nothing: the key of those events
        key = hash64(key_);
      }
      if (buckets_.take(key, e.timestamp_ns)) continue;
      ++excess_;
      if (spec_.tag) {
        core::add_tag(e, kThrottled, batch.arena);
      } else {
        e.drop_reason = kThrottled;
      }
    }
    positions_.note(batch);
    dirty_ = dirty_ || !events.empty();
  }

  void tick(pipeline::StageContext& ctx) override {
    const auto now = ctx.clock().now();
    if (due(next_save_, now, std::chrono::nanoseconds(spec_.save_interval_ns))) save();
    if (due(next_publish_, now, std::chrono::seconds(1))) publish(ctx);
  }

  void stop(pipeline::StageContext& ctx) override {
    save();
    publish(ctx);
  }

 private:
  void save() {
    save_snapshot(state_, holds_, dirty_, kMagic, [&](StateWriter& w) {
      positions_.encode(w);
      buckets_.encode(w);
    });
  }

  void load() {
    auto body = state_.load();
    if (!body) return;
    StateReader r(*body);
    SourcePositions positions;
    if (r.bytes() != kMagic) return state_.set_aside("not a throttle stage's state");
    if (!positions.decode(r) || !buckets_.decode(r) || !r.at_end()) {
      buckets_ = Buckets(spec_.events, spec_.per_ns, spec_.burst ? spec_.burst : spec_.events,
                         static_cast<std::size_t>(spec_.max_keys));
      return state_.set_aside("truncated or malformed");
    }
    loaded_ = positions;
    positions_ = std::move(positions);
    core::log::info(id_, "state: ", buckets_.size(), " bucket(s)");
  }

  void publish(pipeline::StageContext& ctx) {
    auto d = [](auto v) { return static_cast<double>(v); };
    ctx.stats().series.replace({
        {&kExcess, {}, d(excess_)},
        {&kBuckets, {}, d(buckets_.size())},
        {&kStateBytes, {}, d(buckets_.bytes())},
        {&kStateErrors, {}, d(state_errors_.load())},
    });
  }

  const Spec& spec_;
  std::string id_;
  core::Counter state_errors_;
  StateFile state_;
  Buckets buckets_;
  SnapshotHolds holds_;
  SourcePositions positions_, loaded_;
  std::string key_;
  bool dirty_ = false;
  std::uint64_t excess_ = 0;
  core::Clock::time_point next_save_{}, next_publish_{};
};

}  // namespace

std::optional<std::pair<std::int64_t, std::int64_t>> parse_rate(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::int64_t n = 0;
  auto r = std::from_chars(text.data(), text.data() + slash, n);
  if (r.ec != std::errc() || r.ptr != text.data() + slash || n <= 0) return std::nullopt;
  std::string_view unit = text.substr(slash + 1);
  if (unit == "s") return std::pair{n, std::int64_t{1'000'000'000}};
  if (unit == "m") return std::pair{n, std::int64_t{60'000'000'000}};
  if (unit == "h") return std::pair{n, std::int64_t{3'600'000'000'000}};
  // "100/10s": a number and a unit
  std::int64_t k = 0;
  auto rk = std::from_chars(unit.data(), unit.data() + unit.size(), k);
  if (rk.ec != std::errc() || k <= 0) return std::nullopt;
  std::string_view u(rk.ptr, static_cast<std::size_t>(unit.data() + unit.size() - rk.ptr));
  const std::int64_t per = u == "ms"  ? 1'000'000
                           : u == "s" ? 1'000'000'000
                           : u == "m" ? 60'000'000'000
                           : u == "h" ? 3'600'000'000'000
                                      : 0;
  if (per == 0 || k > INT64_MAX / per) return std::nullopt;
  return std::pair{n, k * per};
}

std::unique_ptr<pipeline::StatefulStage> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<ThrottleStage>(*this, ctx);
}

std::unique_ptr<pipeline::StatefulStageSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  auto rate = r.get("rate", "string", "", "events per period: 1000/s, 50/m, 10/h, 100/10s", true);
  s->burst = r.integer("burst", 0, 0, INT64_MAX / 4'000'000'000'000,
                       "events a key may send at once above the rate (its bucket's size); default: the rate's count");
  s->key = config::read_template(r, "key", "", "a template ('{{host.name}}'): one bucket per value; none: one bucket");
  s->tag =
      r.choice("on_excess", "drop", {"drop", "tag"},
               "drop the events over the rate (reason throttled), or tag them `throttled` and let them go on") == "tag";
  s->max_keys = r.integer("max_keys", s->max_keys, 1, 100'000'000, "buckets kept at most; the least recently used go");
  s->save_interval_ns = r.duration_ns("save_interval", s->save_interval_ns,
                                      "how often the buckets are saved (data_dir/state/), besides at stop");
  if (r.describing()) return s;
  if (rate) {
    const std::string text = rate->scalar().value_or("");
    if (auto parsed = parse_rate(text)) {
      s->events = parsed->first;
      s->per_ns = parsed->second;
    } else {
      rate->error("rate must be events per period: 1000/s, 50/m, 10/h, 100/10s");
    }
  }
  if (s->save_interval_ns <= 0) r.node().error("save_interval must be above 0");
  return s;
}

}  // namespace bifrost::filters::throttle
