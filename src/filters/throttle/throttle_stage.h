// Stateful stage `throttle`: at most `rate` events per key (a template; one
// bucket for all without it), with `burst` events of room, by event time
// (@timestamp: ingest time unless a stage before set it). The excess is
// dropped (reason `throttled`) or tagged `throttled` (on_excess: tag).
// The buckets survive a restart (data_dir/state/).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "config/reader.h"
#include "expr/template.h"
#include "pipeline/component.h"

namespace bifrost::filters::throttle {

struct Spec final : pipeline::StatefulStageSpec {
  std::int64_t events = 1000;           // `rate`: this many events ...
  std::int64_t per_ns = 1'000'000'000;  // ... per this long
  std::int64_t burst = 0;               // 0: `events`
  std::optional<expr::Template> key;
  bool tag = false;  // on_excess: tag
  std::int64_t max_keys = 10'000;
  std::int64_t save_interval_ns = 10'000'000'000;
  std::unique_ptr<pipeline::StatefulStage> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::StatefulStageSpec> parse(config::MapReader& r);

// "1000/s", "50/m", "10/h", "100/10s": events and the period, or nothing.
std::optional<std::pair<std::int64_t, std::int64_t>> parse_rate(std::string_view text);

}  // namespace bifrost::filters::throttle
