// Output `stdout`: writes each event to standard output, one per line.
#pragma once

#include <memory>

#include "config/reader.h"
#include "outputs/common/codec.h"
#include "pipeline/component.h"

namespace bifrost::outputs::stdout_ {

struct Spec final : pipeline::OutputSpec {
  outputs::Codec codec = outputs::Codec::kJson;
  std::unique_ptr<pipeline::Output> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r);

}  // namespace bifrost::outputs::stdout_
