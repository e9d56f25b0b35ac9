#include "filters/drop/drop_filter.h"

namespace bifrost::filters::drop {

namespace {
class DropFilter final : public pipeline::Filter {
 public:
  // The pipeline applies `when:` before calling: every event here matched.
  void process(core::Batch& batch, std::span<const std::uint32_t> events) const override {
    for (std::uint32_t i : events) batch.events[i].drop_reason = "condition";
  }
};
}  // namespace

std::unique_ptr<pipeline::Filter> Spec::build(const pipeline::BuildContext&) const {
  return std::make_unique<DropFilter>();
}

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader&) { return std::make_unique<Spec>(); }

}  // namespace bifrost::filters::drop
