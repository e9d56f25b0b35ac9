// Builds one real component from its YAML, as the config loader would, for
// tests that drive it directly (an output's write() and its report).
#pragma once

#include <doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "core/batch.h"
#include "pipeline/component.h"

namespace bifrost::testing {

// An output built from `yaml` (one list item's keys, "type: http\n  url: ..."
// indented by two spaces after the first line), with the config it came from.
struct BuiltOutput {
  std::unique_ptr<config::Config> config;
  std::unique_ptr<pipeline::Output> output;
};

inline BuiltOutput build_output(const std::string& yaml, const std::string& data_dir = "/tmp") {
  config::Diagnostics diag;
  std::string text = "data_dir: " + data_dir + "\ninputs: [{id: i, type: stdin}]\noutputs:\n  - id: out\n    " + yaml;
  auto cfg = config::load_text("test.yaml", text, diag);
  INFO(diag.render());
  REQUIRE(cfg);
  const auto& oc = cfg->pipelines.at(0).outputs.at(0);
  auto out = oc.spec->build(pipeline::BuildContext{"p", "out", data_dir});
  return {std::move(cfg), std::move(out)};
}

// A batch of events with these messages (and a field `n`: the index),
// all selected for slot 0 and encoded by `out`.
class TestBatch {
 public:
  TestBatch(const std::vector<std::string>& messages, const pipeline::Output& out) : pool_(1) {
    batch_ = pool_.acquire();
    storage_ = messages;
    for (std::size_t i = 0; i < storage_.size(); ++i) {
      core::Event& e = batch_->events.emplace_back();
      e.message = storage_[i];
      e.offset = i;
      core::set_field(e, *core::FieldPath::parse("n"), core::Value::integer(static_cast<std::int64_t>(i)),
                      batch_->arena);
    }
    batch_->slots.resize(1);
    for (std::uint32_t i = 0; i < storage_.size(); ++i) batch_->slots[0].selected.push_back(i);
    out.encode(*batch_, batch_->slots[0]);
  }
  ~TestBatch() { batch_->release(); }
  const core::Batch& batch() const { return *batch_; }
  const core::OutputSlot& slot() const { return batch_->slots[0]; }

  // write() once; the report.
  pipeline::DeliveryReport write(pipeline::Output& out) const {
    pipeline::DeliveryReport report;
    report.reset(slot().selected.size());
    out.write(*batch_, slot(), report);
    return report;
  }

 private:
  core::BatchPool pool_;
  core::Batch* batch_;
  std::vector<std::string> storage_;
};

}  // namespace bifrost::testing
