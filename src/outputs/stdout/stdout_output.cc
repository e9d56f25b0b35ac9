#include "outputs/stdout/stdout_output.h"

#include "outputs/common/fd_write.h"

namespace bifrost::outputs::stdout_ {

namespace {

class StdoutOutput final : public pipeline::Output {
 public:
  explicit StdoutOutput(outputs::Codec codec) : codec_(codec) {}

  void encode(const core::Batch& batch, core::OutputSlot& slot) const override {
    outputs::encode_slot(batch, slot, codec_);
  }

  void write(const core::Batch&, const core::OutputSlot& slot, pipeline::DeliveryReport& report) override {
    (void)write_events(1, slot, 0, slot.selected.size(), report, "stdout");  // the report has the outcomes
  }

 private:
  outputs::Codec codec_;
};

}  // namespace

std::unique_ptr<pipeline::Output> Spec::build(const pipeline::BuildContext&) const {
  return std::make_unique<StdoutOutput>(codec);
}

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->codec = *outputs::codec_from_name(
      r.choice("encoding", "json", {"json", "text"}, "json: the whole event; text: the message only"));
  return s;
}

}  // namespace bifrost::outputs::stdout_
