#include "pipeline/pipeline.h"

#include <algorithm>

#include "core/log.h"
#include "pipeline/threads.h"

namespace bifrost::pipeline {

using core::Batch;

Pipeline::Pipeline(const Topology& t, PipelineOptions options)
    : id_(t.id),
      options_(options),
      clock_(options.clock ? *options.clock : core::Clock::system()),
      give_up_(clock_),
      in_queue_(t.inputs.size() * options.batches_per_input + 1) {
  for (const auto& node : t.outputs) {
    if (node.spec->exactly_once() && !exactly_once_) exactly_once_ = std::make_unique<ExactlyOnce>();
  }
  if (options_.workers == 0) {
    options_.workers = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 2, 8);
  }
  for (const auto& node : t.inputs) {
    auto r = std::make_unique<InputRunner>(options_.batches_per_input,
                                           InputRunner::Shared{stopping_, give_up_, in_queue_, clock_});
    r->stats().identify(t.id, node.id, "input", node.type);
    r->set_input(node.spec->build(BuildContext{t.id, node.id, t.data_dir, &r->stats(), &clock_, exactly_once_.get()}));
    inputs_.push_back(std::move(r));
  }
  for (const auto& node : t.filters) {
    filters_.push_back(std::make_unique<FilterStage>(node, t.id, t.data_dir, give_up_, clock_));
  }
  first_stateful_ = filters_.size();
  for (std::size_t k = filters_.size(); k-- > 0;) {
    if (!filters_[k]->stateful()) continue;
    first_stateful_ = k;
    filters_[k]->set_emit([this, k](Batch* b) { run_ordered(k + 1, b); });
  }
  const std::size_t capacity = options_.output_queue_batches ? options_.output_queue_batches : in_queue_.capacity();
  const std::size_t all_batches = t.inputs.size() * options_.batches_per_input;
  for (const auto& node : t.outputs) {
    outputs_.push_back(
        std::make_unique<OutputRunner>(node, t.id, t.data_dir, capacity, all_batches, clock_, exactly_once_.get()));
  }
}

Pipeline::~Pipeline() {
  if (started_ && !drained_) {
    stop_inputs();
    drain(std::chrono::steady_clock::now());
  }
}

void Pipeline::start() {
  started_ = true;
  for (auto& o : outputs_) o->start();
  for (auto& f : filters_) {
    if (f->stateful()) f->start_stage();
  }
  for (std::size_t i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { worker_loop(); });
  if (has_stateful()) ticker_ = std::thread([this] { ticker_loop(); });
  for (auto& in : inputs_) in->start(on_input_end_);
}

void Pipeline::stop_inputs() {
  stopping_.store(true);
  for (auto& in : inputs_) in->close_pool();  // wakes an input waiting for a batch
}

bool Pipeline::inputs_finished() const {
  for (const auto& in : inputs_) {
    if (!in->finished()) return false;
  }
  return true;
}

bool Pipeline::drain(std::chrono::steady_clock::time_point deadline) {
  if (drained_) return true;
  drained_ = true;
  // Inputs may still publish a last batch while stopping; wait for them
  // (polled: an input's thread ending notifies nothing the drain can wait on).
  while (!inputs_finished() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  bool complete = inputs_finished();
  if (complete) {
    for (auto& in : inputs_) complete = in->wait_all_returned(deadline) && complete;
  }
  if (!complete) {
    // Give up: inputs get no more batches, outputs stop retrying, and what
    // is undelivered stays unacknowledged.
    give_up_.interrupt();
    for (auto& in : inputs_) in->close_pool(/*final=*/true);
    for (auto& o : outputs_) o->give_up();
  }
  bool ended = true;  // every input ended by itself (not stopped): nothing will come again
  for (auto& in : inputs_) {
    in->join();
    ended = ended && in->ended();
  }
  in_queue_.close();
  for (auto& w : workers_) w.join();
  if (ticker_.joinable()) {
    {
      std::lock_guard lock(ticker_mu_);
      ticker_stop_ = true;
    }
    ticker_cv_.notify_all();
    ticker_.join();
  }
  if (ended && complete && has_stateful()) {
    // The stateful stages emit what they hold (an aggregate's open
    // windows), in chain order, so a stage after another sees its output.
    with_turn([&] {
      for (auto& f : filters_) {
        if (f->stateful()) f->finish_stage();
      }
    });
  }
  for (auto& o : outputs_) o->close_queue();
  // A disk buffer is sent until it is empty or the deadline passes; what is
  // left is safe on disk and goes out first at the next start.
  for (auto& o : outputs_) {
    if (!o->buffered()) continue;
    while (!o->done() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!o->done()) o->give_up();
  }
  for (auto& o : outputs_) {
    o->join();
    if (o->buffer_bytes() > 0) {
      core::log::info(o->stats().component, "disk buffer: ", o->buffer_bytes(),
                      " bytes stay; they go out first at the next start");
    }
  }
  // Every batch a stateful stage emitted is finished or given up: it saves
  // its state, and what it holds open keeps the inputs' checkpoints behind it.
  for (auto& f : filters_) {
    if (f->stateful()) f->stop_stage();
  }
  for (auto& in : inputs_) in->input().drained();
  return complete;
}

TapPoint* Pipeline::tap(const std::string& id) {
  for (auto& in : inputs_) {
    if (in->stats().component == id) return &in->tap();
  }
  for (auto& f : filters_) {
    if (f->stats().component == id) return &f->tap();
  }
  for (auto& o : outputs_) {
    if (o->stats().component == id) return &o->tap();
  }
  return nullptr;
}

std::vector<const core::ComponentStats*> Pipeline::stats() const {
  std::vector<const core::ComponentStats*> out;
  for (const auto& in : inputs_) out.push_back(&in->stats());
  for (const auto& f : filters_) out.push_back(&f->stats());
  for (const auto& o : outputs_) out.push_back(&o->stats());
  return out;
}

void Pipeline::worker_loop() {
  name_thread("worker");
  std::vector<std::uint32_t> scratch;
  while (true) {
    std::uint64_t seq = 0;
    auto item = in_queue_.pop(&seq);
    if (!item) return;
    Batch* batch = *item;
    process(*batch, scratch);
    hand_over(seq, batch);
  }
}

// Batches go to the outputs in the order they were popped. A worker that
// finishes one out of turn leaves it here and takes the next batch instead
// of waiting; one worker at a time dispatches whatever is next in turn.
void Pipeline::hand_over(std::uint64_t seq, Batch* batch) {
  std::unique_lock lock(turn_mu_);
  finished_.emplace_back(seq, batch);
  if (dispatching_) return;  // the dispatching worker takes it when its turn comes
  dispatching_ = true;
  dispatch_in_turn(lock);
  dispatching_ = false;
  turn_free_.notify_all();
}

void Pipeline::dispatch_in_turn(std::unique_lock<std::mutex>& lock) {
  for (;;) {
    auto it = std::find_if(finished_.begin(), finished_.end(), [&](const auto& f) { return f.first == turn_; });
    if (it == finished_.end()) break;
    Batch* next = it->second;
    finished_.erase(it);
    lock.unlock();
    // Waits only for a full output queue (never with the default room), or
    // for a stateful stage's pool.
    if (has_stateful()) {
      run_ordered(first_stateful_, next);
    } else {
      dispatch(next);
    }
    lock.lock();
    ++turn_;
  }
}

template <class F>
void Pipeline::with_turn(F&& f) {
  std::unique_lock lock(turn_mu_);
  turn_free_.wait(lock, [&] { return !dispatching_; });
  dispatching_ = true;
  lock.unlock();
  f();
  lock.lock();
  dispatch_in_turn(lock);  // what the workers left meanwhile
  dispatching_ = false;
  turn_free_.notify_all();
}

void Pipeline::ticker_loop() {
  name_thread("tick");
  std::vector<core::Clock::time_point> due(filters_.size(), clock_.now());
  std::unique_lock lock(ticker_mu_);
  while (!ticker_stop_) {
    auto next = core::Clock::time_point::max();
    for (std::size_t k = 0; k < filters_.size(); ++k) {
      if (filters_[k]->stateful()) next = std::min(next, due[k]);
    }
    clock_.wait_until(lock, ticker_cv_, next, [&] { return ticker_stop_; });
    if (ticker_stop_) break;
    lock.unlock();
    const auto now = clock_.now();
    with_turn([&] {
      for (std::size_t k = 0; k < filters_.size(); ++k) {
        if (!filters_[k]->stateful() || now < due[k]) continue;
        filters_[k]->tick_stage();
        due[k] = now + filters_[k]->tick_interval();
      }
    });
    lock.lock();
  }
}

void Pipeline::process(Batch& batch, std::vector<std::uint32_t>& sel) {
  if (batch.origin) batch.origin->decorate(batch);
  for (auto& in : inputs_) {
    if (&in->input() != batch.origin || !in->tap().active()) continue;
    select_events(batch, nullptr, sel);
    tap_events(in->tap(), in->stats(), batch, sel);
  }
  std::uint64_t live = batch.live_events();
  for (std::size_t k = 0; k < first_stateful_; ++k) live = filters_[k]->run(batch, sel, live);
  // Route and encode while still in parallel with other workers (with a
  // stateful stage: on the turn, after it).
  if (!has_stateful()) route(batch);
}

void Pipeline::route(Batch& batch) {
  if (batch.slots.size() != outputs_.size()) batch.slots.resize(outputs_.size());
  for (std::size_t k = 0; k < outputs_.size(); ++k) {
    batch.slots[k].clear();
    outputs_[k]->route(batch, batch.slots[k]);
  }
}

// On the turn. A stateful stage among [from, end) may emit batches, which
// come back here (nested) for the stages after it.
void Pipeline::run_ordered(std::size_t from, Batch* batch) {
  if (ordered_scratch_.size() <= ordered_depth_) ordered_scratch_.emplace_back();
  std::vector<std::uint32_t>& sel = ordered_scratch_[ordered_depth_];
  ++ordered_depth_;
  std::uint64_t live = batch->live_events();
  for (std::size_t k = from; k < filters_.size(); ++k) live = filters_[k]->run(*batch, sel, live);
  --ordered_depth_;
  route(*batch);
  dispatch(batch);
}

void Pipeline::dispatch(Batch* batch) {
  int holders = 0;
  for (const core::OutputSlot& s : batch->slots) holders += !s.selected.empty();
  batch->retain(holders);
  for (std::size_t k = 0; k < outputs_.size(); ++k) {
    if (batch->slots[k].selected.empty()) continue;
    if (!outputs_[k]->enqueue(Delivery{batch, k})) {
      batch->abandon();
      batch->release();
    }
  }
  batch->release();  // the input's reference: finished here if no output took it
}

}  // namespace bifrost::pipeline
