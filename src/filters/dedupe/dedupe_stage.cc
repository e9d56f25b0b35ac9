#include "filters/dedupe/dedupe_stage.h"

#include <charconv>
#include <cmath>

#include "config/expr_reader.h"
#include "core/log.h"
#include "filters/common/hash.h"
#include "filters/common/snapshot_holds.h"
#include "filters/common/stage_state.h"
#include "filters/common/value_key.h"
#include "filters/dedupe/exact_keys.h"
#include "filters/dedupe/metric_families.h"
#include "filters/dedupe/sliced_bloom.h"

namespace bifrost::filters::dedupe {

namespace {

constexpr const char* kDuplicate = "duplicate";
constexpr std::string_view kMagic = "bifrost-dedupe 1";

class DedupeStage final : public pipeline::StatefulStage {
 public:
  DedupeStage(const Spec& spec, const pipeline::BuildContext& ctx)
      : spec_(spec),
        id_(ctx.component),
        state_(ctx, &state_errors_, "keys seen before are forgotten (their duplicates go on once)") {
    if (spec_.bloom) {
      bloom_.emplace(static_cast<std::uint64_t>(spec_.max_keys), spec_.false_positive_rate, spec_.window_ns);
    } else {
      exact_.emplace(static_cast<std::uint64_t>(spec_.max_keys));
    }
  }

  void start(pipeline::StageContext& ctx) override {
    load();
    next_save_ = ctx.clock().now() + std::chrono::nanoseconds(spec_.save_interval_ns);
  }

  void process(core::Batch& batch, std::span<const std::uint32_t> events, pipeline::StageContext&) override {
    holds_.on_batch(batch);
    const std::uint64_t src = source_key(batch);
    for (std::uint32_t i : events) {
      core::Event& e = batch.events[i];
      if (!key_of(e)) {
        ++no_key_;
        continue;
      }
      const Hash128 h = hash128(key_);
      const std::int64_t t = e.timestamp_ns;
      newest_ = std::max(newest_, t);
      const bool seen_before = loaded_.covers(src, e.offset);  // read again after a restart
      if (bloom_) {
        if (seen_before) {
          ++replayed_;  // its key is in the filter whether it was the first or not: let it go on
          continue;
        }
        if (bloom_->contains(h)) {
          duplicate(e);
        } else {
          bloom_->insert(h, t);
        }
        continue;
      }
      // Exact: the entry remembers which event made it, so an event read
      // again after a restart is not its own duplicate.
      const ExactKeys::Entry* k = exact_->find(h);
      const bool itself = k && k->source == src && k->offset == e.offset;
      if (itself) continue;
      if (k && std::llabs(t - k->first_ns) <= spec_.window_ns) {
        duplicate(e);
        continue;
      }
      if (k) exact_->forget(h);  // seen, but longer ago than the window: anew
      exact_->insert({h, t, src, e.offset});
    }
    if (exact_ && newest_ != INT64_MIN) exact_->expire(newest_ - spec_.window_ns);
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
  // The event's key into key_; false when a part of it is missing.
  bool key_of(const core::Event& e) {
    key_.clear();
    if (spec_.key) return spec_.key->render(e, key_);
    bool any = false;
    for (const core::FieldPath& f : spec_.fields) {
      auto v = core::get_field(e, f);
      if (!v) return false;
      any = true;
      append_key(key_, v);
    }
    return any;
  }

  void duplicate(core::Event& e) {
    e.drop_reason = kDuplicate;
    ++hits_;
  }

  // The keys with the positions they cover, then the holds before them go
  // (filters/common/snapshot_holds.h).
  void save() {
    save_snapshot(state_, holds_, dirty_, kMagic, [&](StateWriter& w) {
      w.u64(spec_.bloom ? 1 : 0);
      positions_.encode(w);
      if (bloom_) {
        bloom_->encode(w);
      } else {
        exact_->encode(w);
      }
    });
  }

  void load() {
    auto body = state_.load();
    if (!body) return;
    StateReader r(*body);
    if (r.bytes() != kMagic) return state_.set_aside("not a dedupe stage's state");
    if (r.u64() != (spec_.bloom ? 1u : 0u)) {
      core::log::warn(id_, "state: saved in the other mode; starting without it");
      return;
    }
    SourcePositions positions;
    bool ok = positions.decode(r);
    if (ok && bloom_) ok = bloom_->decode(r) && r.at_end();
    if (ok && exact_) ok = exact_->decode(r) && r.at_end();
    if (!ok) {
      if (bloom_)
        bloom_.emplace(static_cast<std::uint64_t>(spec_.max_keys), spec_.false_positive_rate, spec_.window_ns);
      if (exact_) exact_.emplace(static_cast<std::uint64_t>(spec_.max_keys));
      return state_.set_aside("truncated, malformed, or made with another max_keys or false_positive_rate");
    }
    loaded_ = positions;
    positions_ = std::move(positions);
    core::log::info(id_, "state: ", exact_ ? exact_->size() : bloom_->keys(), " key(s)");
  }

  void publish(pipeline::StageContext& ctx) {
    auto d = [](auto v) { return static_cast<double>(v); };
    ctx.stats().series.replace({
        {&kHits, {}, d(hits_)},
        {&kKeys, {}, d(exact_ ? exact_->size() : bloom_->keys())},
        {&kUnchecked, {"no_key"}, d(no_key_)},
        {&kUnchecked, {"replayed"}, d(replayed_)},
        {&kStateBytes, {}, d(exact_ ? exact_->bytes() : bloom_->bytes())},
        {&kStateErrors, {}, d(state_errors_.load())},
    });
  }

  const Spec& spec_;
  std::string id_;
  core::Counter state_errors_;
  StateFile state_;
  std::optional<ExactKeys> exact_;
  std::optional<SlicedBloom> bloom_;
  SnapshotHolds holds_;
  SourcePositions positions_, loaded_;
  std::string key_;
  std::int64_t newest_ = INT64_MIN;
  bool dirty_ = false;
  std::uint64_t hits_ = 0, no_key_ = 0, replayed_ = 0;
  core::Clock::time_point next_save_{}, next_publish_{};
};

}  // namespace

std::unique_ptr<pipeline::StatefulStage> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<DedupeStage>(*this, ctx);
}

std::unique_ptr<pipeline::StatefulStageSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->key = config::read_template(r, "key", "", "the key, a template ('{{client}} {{request.path}}'); or use fields");
  s->fields = config::read_field_path_list(r, "fields", "the key, as these fields' values (instead of key)");
  s->window_ns =
      r.duration_ns("window", s->window_ns, "an event whose key was seen this long before or less is dropped");
  s->max_keys = r.integer("max_keys", s->max_keys, 1, 4'000'000'000, "keys remembered at most; the oldest go first");
  s->bloom = r.choice("mode", "exact", {"exact", "bloom"},
                      "exact: keys by a 128-bit hash, about 48 bytes each; bloom: a time-sliced Bloom filter, "
                      "memory fixed by max_keys and false_positive_rate") == "bloom";
  auto rate = r.get("false_positive_rate", "number", "0.01",
                    "bloom: the chance that a new key is taken for a duplicate (and dropped)");
  s->save_interval_ns = r.duration_ns("save_interval", s->save_interval_ns,
                                      "how often the keys are saved (data_dir/state/), besides at stop");
  if (r.describing()) return s;
  if (s->key && !s->fields.empty()) r.node().error("dedupe takes `key` or `fields`, not both");
  if (!s->key && s->fields.empty() && r.node().is_map()) r.node().error("dedupe needs `key` (a template) or `fields`");
  if (s->window_ns <= 0) r.node().error("window must be above 0");
  if (s->save_interval_ns <= 0) r.node().error("save_interval must be above 0");
  if (rate) {
    double v = 0;
    const std::string text = rate->scalar().value_or("");
    auto res = std::from_chars(text.data(), text.data() + text.size(), v);
    if (res.ec != std::errc() || res.ptr != text.data() + text.size() || !(v > 0 && v < 0.5)) {
      rate->error("false_positive_rate must be a number above 0 and below 0.5");
    } else if (!s->bloom) {
      rate->error("false_positive_rate is for mode: bloom");
    } else {
      s->false_positive_rate = v;
    }
  }
  return s;
}

}  // namespace bifrost::filters::dedupe
