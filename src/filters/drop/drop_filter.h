// Filter `drop`: drops every event matching its `when:` (required), counted
// under reason "condition".
#pragma once

#include <memory>

#include "config/reader.h"
#include "pipeline/component.h"

namespace bifrost::filters::drop {

struct Spec final : pipeline::FilterSpec {
  std::unique_ptr<pipeline::Filter> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r);

}  // namespace bifrost::filters::drop
