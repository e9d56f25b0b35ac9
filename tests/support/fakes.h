// Fakes of the component interfaces (pipeline/component.h), for the
// runtime's tests, and a builder that owns their specs and makes the
// Topology a Pipeline is built from.
#pragma once

#include <doctest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/ack.h"
#include "core/event.h"
#include "expr/condition.h"
#include "outputs/common/codec.h"
#include "pipeline/component.h"
#include "pipeline/topology.h"
#include "support/temp_dir.h"

namespace bifrost::testing {

// An input that publishes `batches` batches of `per_batch` events numbered
// from 0 (message "N", field n: N, offset N), acknowledging position =
// number of events published.
struct FakeInputState {
  int batches = 10;
  int per_batch = 100;
  std::shared_ptr<core::AckTracker> tracker = std::make_shared<core::AckTracker>();
  std::atomic<int> published{0};
  std::deque<std::string> storage;  // message bytes, stable
};

class FakeInput final : public pipeline::Input {
 public:
  explicit FakeInput(FakeInputState& s) : s_(s) {
    for (int i = 0; i < s_.batches * s_.per_batch; ++i) s_.storage.push_back(std::to_string(i));
  }
  void run(pipeline::InputContext& ctx) override {
    int n = 0;
    for (int b = 0; b < s_.batches; ++b) {
      core::Batch* batch = ctx.acquire();
      if (!batch) return;
      for (int i = 0; i < s_.per_batch; ++i, ++n) {
        core::Event& e = batch->events.emplace_back();
        e.message = s_.storage[static_cast<std::size_t>(n)];
        e.offset = static_cast<std::uint64_t>(n);
        core::set_field(e, *core::FieldPath::parse("n"), core::Value::integer(n), batch->arena);
      }
      batch->tracker = s_.tracker;
      batch->ack_seq = s_.tracker->track(static_cast<std::uint64_t>(n));
      ctx.publish(batch);
      s_.published++;
    }
  }

 private:
  FakeInputState& s_;
};

// An output that records what it delivered (in order); can hold writes at a
// gate, ask for a retry of given messages on their first attempt (or every
// time), and reject given messages.
struct FakeOutputState {
  std::mutex mu;
  std::condition_variable cv;
  bool gate_open = true;
  std::vector<std::string> delivered;
  std::set<std::string> fail_once;
  std::set<std::string> failed_already;
  std::set<std::string> reject;       // rejected (permanent) every time
  std::set<std::string> fail_always;  // retry (transient) every time
  int writes = 0;
  std::atomic<int> at_gate{0};  // writes waiting at the closed gate
  std::atomic<int> flushes{0};
  std::chrono::milliseconds flush_interval{1000};

  void open_gate() {
    {
      std::lock_guard l(mu);
      gate_open = true;
    }
    cv.notify_all();
  }
};

class FakeOutput final : public pipeline::Output {
 public:
  explicit FakeOutput(FakeOutputState& s) : s_(s) {}
  void encode(const core::Batch& batch, core::OutputSlot& slot) const override {
    outputs::encode_slot(batch, slot, outputs::Codec::kText);
  }
  void write(const core::Batch& batch, const core::OutputSlot& slot, pipeline::DeliveryReport& report) override {
    std::unique_lock lock(s_.mu);
    ++s_.at_gate;
    s_.cv.wait(lock, [&] { return s_.gate_open; });
    --s_.at_gate;
    s_.writes++;
    for (std::size_t i = 0; i < slot.selected.size(); ++i) {
      std::string m(batch.events[slot.selected[i]].message);
      if (s_.reject.count(m)) {
        report.set(i, pipeline::Outcome::kRejected, "bad event " + m);
        continue;
      }
      if (s_.fail_always.count(m)) {
        report.set(i, pipeline::Outcome::kRetry, "down");
        continue;
      }
      if (s_.fail_once.count(m) && !s_.failed_already.count(m)) {
        s_.failed_already.insert(m);
        report.set(i, pipeline::Outcome::kRetry, "try again");
        continue;
      }
      // The encoded bytes for i must be this event's line.
      std::size_t begin = i == 0 ? 0 : slot.ends[i - 1];
      CHECK(slot.encoded.substr(begin, slot.ends[i] - begin) == m + "\n");
      s_.delivered.push_back(m);
    }
  }
  void flush() override { s_.flushes++; }
  std::chrono::milliseconds flush_interval() const override { return s_.flush_interval; }

 private:
  FakeOutputState& s_;
};

struct FakeInputSpec final : pipeline::InputSpec {
  FakeInputState* state;
  std::unique_ptr<pipeline::Input> build(const pipeline::BuildContext&) const override {
    return std::make_unique<FakeInput>(*state);
  }
};

struct FakeOutputSpec final : pipeline::OutputSpec {
  FakeOutputState* state;
  std::unique_ptr<pipeline::Output> build(const pipeline::BuildContext&) const override {
    return std::make_unique<FakeOutput>(*state);
  }
};

// A pipeline "test" of one fake input ("in") and fake outputs ("out0",
// "out1", ...), each with an optional `when:`, whose data_dir is a fresh
// temporary directory. Owns what its topology points to.
class FakePipeline {
 public:
  FakePipeline(FakeInputState& in, std::vector<FakeOutputState*> outs, std::vector<const char*> whens = {}) {
    topology.id = "test";
    topology.data_dir = dir_.path();
    auto is = std::make_unique<FakeInputSpec>();
    is->state = &in;
    topology.inputs.push_back({"in", "fake", is.get()});
    input_specs_.push_back(std::move(is));
    for (std::size_t k = 0; k < outs.size(); ++k) {
      auto os = std::make_unique<FakeOutputSpec>();
      os->state = outs[k];
      const expr::Condition* when = nullptr;
      if (k < whens.size() && whens[k]) {
        conditions_.push_back(
            std::make_unique<expr::Condition>(std::get<expr::Condition>(expr::Condition::parse(whens[k]))));
        when = conditions_.back().get();
      }
      topology.outputs.push_back({"out" + std::to_string(k), "fake", os.get(), when, {}});
      output_specs_.push_back(std::move(os));
    }
  }

  const std::string& data_dir() const { return dir_.path(); }
  pipeline::Topology topology;

 private:
  TempDir dir_{"bifrost-pipeline"};
  std::vector<std::unique_ptr<FakeInputSpec>> input_specs_;
  std::vector<std::unique_ptr<FakeOutputSpec>> output_specs_;
  std::vector<std::unique_ptr<expr::Condition>> conditions_;
};

}  // namespace bifrost::testing
