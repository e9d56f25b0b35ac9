// Input `stdin`: reads lines from standard input until end of file, then
// ends (bifrost drains and exits 0 when every input has ended).
#pragma once

#include <memory>

#include "config/reader.h"
#include "pipeline/component.h"

namespace bifrost::inputs::stdin_ {

struct Spec final : pipeline::InputSpec {
  std::uint64_t max_line_bytes = 16u << 20;
  std::uint64_t read_buffer_bytes = 256u << 10;
  std::int64_t batch_events = 2048;
  std::unique_ptr<pipeline::Input> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::InputSpec> parse(config::MapReader& r);

}  // namespace bifrost::inputs::stdin_
