// Stateful stage `dedupe`: drops an event whose key was seen within
// `window` (reason `duplicate`). The key is a template or a list of
// fields. `mode: exact` remembers up to max_keys keys by a 128-bit hash;
// `mode: bloom` a time-sliced Bloom filter whose memory is fixed by
// max_keys and false_positive_rate. The keys survive a restart
// (data_dir/state/), exactly after kill -9 in exact mode (README.md).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "config/reader.h"
#include "core/event.h"
#include "expr/template.h"
#include "pipeline/component.h"

namespace bifrost::filters::dedupe {

struct Spec final : pipeline::StatefulStageSpec {
  std::optional<expr::Template> key;
  std::vector<core::FieldPath> fields;
  std::int64_t window_ns = 600'000'000'000;
  std::int64_t max_keys = 1'000'000;
  bool bloom = false;
  double false_positive_rate = 0.01;
  std::int64_t save_interval_ns = 10'000'000'000;
  std::unique_ptr<pipeline::StatefulStage> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::StatefulStageSpec> parse(config::MapReader& r);

}  // namespace bifrost::filters::dedupe
