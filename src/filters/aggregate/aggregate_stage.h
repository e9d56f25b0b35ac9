// Stateful stage `aggregate`: tumbling windows by event time; each window
// that closes emits one event per group (the group-by values) with its
// metrics, which goes through the rest of the pipeline like any event.
// Exact after a crash: see README.md in this folder.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/reader.h"
#include "core/event.h"
#include "pipeline/component.h"

namespace bifrost::filters::aggregate {

enum class MetricKind : std::uint8_t { kCount, kSum, kMin, kMax, kAvg, kPercentile, kCountDistinct };
enum class Late : std::uint8_t { kDrop, kTag, kSeparate };

struct MetricSpec {
  std::string name;  // where the value goes in the emitted event (a field path)
  core::FieldPath out;
  MetricKind kind = MetricKind::kCount;
  std::optional<core::FieldPath> field;  // what it reads (not for count)
  double q = 0.5;                        // percentile
};

struct Spec final : pipeline::StatefulStageSpec {
  std::int64_t window_ns = 60'000'000'000;
  std::vector<core::FieldPath> group_by;
  std::vector<MetricSpec> metrics;
  std::int64_t allowed_lateness_ns = 0;
  Late late = Late::kDrop;
  bool pass = true;
  std::int64_t max_groups = 100'000;
  std::int64_t idle_timeout_ns = 60'000'000'000;
  std::unique_ptr<pipeline::StatefulStage> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::StatefulStageSpec> parse(config::MapReader& r);

}  // namespace bifrost::filters::aggregate
