#include "app/test_runner.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/load.h"
#include "config/model.h"
#include "core/json.h"
#include "core/json_value.h"
#include "core/time.h"

namespace bifrost::app {

namespace {

using core::Value;

bool numbers_equal(const Value& a, const Value& b) {
  if (a.kind() == Value::Kind::kInt && b.kind() == Value::Kind::kInt) return a.as_int() == b.as_int();
  return a.as_double() == b.as_double();
}

// Whether `actual` has what `expected` says: equal scalars, equal arrays,
// and for objects every expected member (others may be there too).
bool matches(const Value& expected, const Value& actual) {
  if (expected.is_number() && actual.is_number()) return numbers_equal(expected, actual);
  if (expected.kind() != actual.kind()) return false;
  switch (expected.kind()) {
    case Value::Kind::kNull: return true;
    case Value::Kind::kBool: return expected.as_bool() == actual.as_bool();
    case Value::Kind::kString: return expected.as_string() == actual.as_string();
    case Value::Kind::kArray: {
      auto e = expected.items(), a = actual.items();
      if (e.size() != a.size()) return false;
      for (std::size_t i = 0; i < e.size(); ++i) {
        if (!matches(e[i], a[i])) return false;
      }
      return true;
    }
    case Value::Kind::kObject:
      for (const core::Member& m : expected.members()) {
        const Value* v = actual.find(m.key);
        if (!v || !matches(m.value, *v)) return false;
      }
      return true;
    default: return false;
  }
}

std::string json(const Value& v) {
  std::string out;
  core::append_json_value(out, v);
  return out;
}

// Compares one event with its expected fields; appends what differs.
bool check_event(const core::Event& e, const Value& expected, std::string& why) {
  bool ok = true;
  for (const core::Member& m : expected.members()) {
    auto path = core::FieldPath::parse(m.key);
    if (!path) continue;
    std::optional<Value> actual = core::get_field(e, *path);
    bool same = false;
    if (actual && path->root() == core::FieldPath::Root::kTimestamp && m.value.is_string()) {
      char buf[core::kRfc3339NsLen];
      core::format_rfc3339_ns(e.timestamp_ns, buf);
      std::string full(buf, sizeof buf), seconds = full.substr(0, 19) + "Z";
      same = m.value.as_string() == full || (e.timestamp_ns % 1'000'000'000 == 0 && m.value.as_string() == seconds);
      if (!same) why += "      " + std::string(m.key) + ": expected " + json(m.value) + ", got \"" + full + "\"\n";
      ok = ok && same;
      continue;
    }
    // An expected null means "absent or null": a field that must not be there.
    same = actual ? matches(m.value, *actual) : m.value.is_null();
    if (!same) {
      why += "      " + std::string(m.key) + ": expected " + json(m.value) + ", got " +
             (actual ? json(*actual) : "nothing") + "\n";
      ok = false;
    }
  }
  return ok;
}

struct Stage {
  std::unique_ptr<pipeline::Filter> filter;
  std::unique_ptr<pipeline::StatefulStage> stateful;
  const expr::Condition* when;
};

// Runs stages [first, last) of a test on its events; what stateful stages
// emit (an aggregate's windows, at the end: the test's input has ended)
// goes through the stages after them, into batches of its own.
class TestChain final : public pipeline::StageContext {
 public:
  TestChain(std::vector<Stage>& stages, std::size_t first, std::size_t last)
      : stages_(stages), first_(first), last_(last), pool_(64) {}
  ~TestChain() override {
    for (core::Batch* b : emitted_) b->release();
  }

  void run(core::Batch& batch) {
    for (std::size_t k = first_; k < last_; ++k) {
      if (stages_[k].stateful) stages_[k].stateful->start(*this);
    }
    run_from(first_, batch);
  }
  // The input has ended: stateful stages emit what they hold, in order.
  void finish() {
    for (std::size_t k = first_; k < last_; ++k) {
      if (!stages_[k].stateful) continue;
      current_ = k;
      stages_[k].stateful->finish(*this);
    }
  }
  const std::vector<core::Batch*>& emitted() const { return emitted_; }

  core::Batch* acquire() override { return pool_.try_acquire(); }
  void emit(core::Batch* b) override {
    const std::size_t from = current_ + 1;
    emitted_.push_back(b);
    run_from(from, *b);
  }
  core::Clock& clock() override { return core::Clock::system(); }
  core::ComponentStats& stats() override { return stats_; }

 private:
  void run_from(std::size_t from, core::Batch& batch) {
    std::vector<std::uint32_t> sel;
    for (std::size_t k = from; k < last_; ++k) {
      const std::size_t outer = current_;
      current_ = k;
      if (stages_[k].stateful) {
        pipeline::select_events(batch, stages_[k].when, sel);
        stages_[k].stateful->process(batch, sel, *this);
      } else {
        pipeline::run_filter_stage(*stages_[k].filter, stages_[k].when, batch, sel);
      }
      current_ = outer;
    }
  }

  std::vector<Stage>& stages_;
  std::size_t first_, last_;
  std::size_t current_ = 0;
  core::BatchPool pool_;
  std::vector<core::Batch*> emitted_;
  core::ComponentStats stats_;
};

// Runs one test; prints its result. Returns whether it passed.
bool run_one(const config::Config& cfg, const config::TestCase& t) {
  const config::PipelineConfig* p = nullptr;
  for (const auto& pc : cfg.pipelines) {
    if (pc.id == t.pipeline) p = &pc;
  }
  std::vector<Stage> stages;
  std::size_t first = 0, last = p->filters.size();  // filters [first, last) run
  const expr::Condition* route = nullptr;
  bool at_output = false;
  for (std::size_t k = 0; k < p->filters.size(); ++k) {
    const auto& fc = p->filters[k];
    // No data_dir: a stateful stage keeps no state between tests.
    const pipeline::BuildContext ctx{p->id, fc.id, ""};
    Stage stage{nullptr, nullptr, fc.when ? &*fc.when : nullptr};
    if (fc.stage) {
      stage.stateful = fc.stage->build(ctx);
    } else {
      stage.filter = fc.spec->build(ctx);
    }
    stages.push_back(std::move(stage));
    if (fc.id == t.input) first = k;
    if (fc.id == t.at) last = k + 1;
  }
  for (const auto& oc : p->outputs) {
    if (oc.id == t.at) {
      at_output = true;
      route = oc.when ? &*oc.when : nullptr;
    }
  }

  core::BatchPool pool(1);
  core::Batch* batch = pool.acquire();
  batch->events.reserve(t.events.size());
  const std::int64_t now = core::now_ns();
  std::string why;
  for (const std::string& text : t.events) {
    auto v = core::parse_json_value(text, batch->arena);
    if (!v) {  // nested deeper than the JSON parser goes (1024 levels)
      why += "    an input event cannot be read back (nested too deep)\n";
      continue;
    }
    core::Event& e = batch->events.emplace_back();
    e.timestamp_ns = now;
    for (const core::Member& m : v->members()) {
      if (m.key == "message" && m.value.is_string()) {
        e.message = m.value.as_string();
      } else if (auto path = core::FieldPath::parse(m.key)) {
        if (!core::set_field(e, *path, m.value, batch->arena))
          why += "    cannot set " + std::string(m.key) + " from " + json(m.value) + "\n";
      }
    }
  }
  batch->ingest_ns = now;
  TestChain chain(stages, first, last);
  chain.run(*batch);
  chain.finish();
  // The events at `at`: the input's, then what stateful stages emitted.
  std::vector<const core::Event*> got;
  std::vector<std::uint32_t> scratch;
  std::vector<core::Batch*> all{batch};
  all.insert(all.end(), chain.emitted().begin(), chain.emitted().end());
  for (core::Batch* b : all) {
    pipeline::select_events(*b, at_output ? route : nullptr, scratch);
    for (std::uint32_t i : scratch) got.push_back(&b->events[i]);
  }

  bool ok = why.empty();
  if (got.size() != t.expect.size()) {
    why += "    expected " + std::to_string(t.expect.size()) + " event(s) at " + t.at + ", got " +
           std::to_string(got.size()) + "\n";
    ok = false;
  }
  for (std::size_t i = 0; i < std::min(got.size(), t.expect.size()); ++i) {
    auto expected = core::parse_json_value(t.expect[i], batch->arena);
    std::string diff;
    if (!expected) {
      why += "    expected event " + std::to_string(i + 1) + " cannot be read back (nested too deep)\n";
      ok = false;
    } else if (!check_event(*got[i], *expected, diff)) {
      why += "    event " + std::to_string(i + 1) + ":\n" + diff;
      ok = false;
    }
  }
  if (!ok) {
    why += "    events at " + t.at + ":\n";
    core::Rfc3339Cache cache;
    for (const core::Event* e : got) {
      std::string line;
      core::append_event_json(line, *e, cache);
      why += "      " + line + "\n";
    }
  }
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", t.name.c_str());
  if (!ok) {
    std::printf("    at %s:%d:%d\n%s", t.location.file.c_str(), t.location.line, t.location.col, why.c_str());
  }
  batch->release();
  return ok;
}

}  // namespace

int run_config_tests(const std::string& path) {
  auto cfg = load_or_print(path);
  if (!cfg) return kExitInvalidConfig;
  if (cfg->tests.empty()) {
    std::fprintf(stderr, "%s: no tests (add `tests:`; see bifrost test --help)\n", path.c_str());
    return kExitFatal;
  }
  std::size_t passed = 0;
  for (const auto& t : cfg->tests) passed += run_one(*cfg, t);
  std::size_t failed = cfg->tests.size() - passed;
  std::printf("%s: %zu test(s) passed, %zu failed\n", path.c_str(), passed, failed);
  return failed == 0 ? kExitOk : kExitFatal;
}

}  // namespace bifrost::app
