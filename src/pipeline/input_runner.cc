#include "pipeline/input_runner.h"

#include "pipeline/threads.h"

namespace bifrost::pipeline {

void InputRunner::start(const std::function<void()>& on_end) {
  thread_ = std::thread([this, on_end] {
    name_thread("in:" + stats_.component);
    input_->run(*this);
    ended_.store(!stopping());
    finished_.store(true);
    if (on_end) on_end();
  });
}

// A batch free at once costs no clock reading; a wait is timed as
// backpressure (bifrost_input_blocked_seconds_total). A wait that gives up
// (acquire_for) leaves the spell running until a batch comes.
core::Batch* InputRunner::acquire() {
  core::Batch* b = stopping() ? nullptr : pool_.try_acquire();
  if (!b && !stopping()) {
    held_back(true);
    b = pool_.acquire();
  }
  held_back(false);
  return b;
}

core::Batch* InputRunner::acquire_for(std::chrono::milliseconds wait) {
  core::Batch* b = stopping() ? nullptr : pool_.try_acquire();
  if (!b && !stopping()) {
    held_back(true);
    b = pool_.acquire_for(wait);
    if (!b) return nullptr;  // still held back
  }
  held_back(false);
  return b;
}

core::Batch* InputRunner::acquire_final() {
  held_back(false);
  return shared_.give_up.interrupted() ? nullptr : pool_.acquire(/*even_closed=*/true);
}

void InputRunner::held_back(bool on) {
  if (on == held_back_) return;
  held_back_ = on;
  if (on) stats_.blocked.start(shared_.clock.now());
  else stats_.blocked.stop(shared_.clock.now());
}

void InputRunner::publish(core::Batch* b) {
  if (b->events.empty()) {
    b->release();
    return;
  }
  b->origin = input_.get();
  std::uint64_t bytes = 0;
  for (const auto& e : b->events) bytes += e.message.size();
  core::add(stats_.events_in, b->events.size());
  core::add(stats_.events_out, b->events.size());
  core::add(stats_.bytes_in, bytes);
  if (!shared_.queue.push(b)) {
    // Only after drain gave up: the batch is not delivered, so not acknowledged.
    b->abandon();
    b->release();
  }
}

}  // namespace bifrost::pipeline
