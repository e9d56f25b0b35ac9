// Reloads asked for through the API (POST /reload), answered by the daemon's
// main thread, which does every reload (SIGHUP's too).
//
// An API thread asks, wakes the main thread (a SIGHUP to itself: signals
// arriving during a reload coalesce into one more) and waits for a reload
// that began after it asked. The main thread takes a ticket when a reload
// begins (every ask so far) and answers them all when it ends.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "api/server.h"

namespace bifrost::app {

class ReloadRequests {
 public:
  // API thread: blocks until a reload that began after this call ended (or
  // bifrost stops, or `patience` passes).
  api::ReloadOutcome ask(const std::function<void()>& wake, std::chrono::seconds patience) {
    std::unique_lock lock(mu_);
    const std::uint64_t mine = ++asked_;
    lock.unlock();
    wake();
    lock.lock();
    if (!cv_.wait_for(lock, patience, [&] { return answered_ >= mine || closed_; })) {
      return {api::ReloadOutcome::Status::kFailed, "no answer from the daemon's main thread in time", ""};
    }
    if (answered_ < mine) return {api::ReloadOutcome::Status::kFailed, closed_why_, ""};
    return last_;
  }

  // Main thread: a reload begins; it answers every ask made until now.
  std::uint64_t begin() {
    std::lock_guard lock(mu_);
    return asked_;
  }

  void finish(std::uint64_t ticket, api::ReloadOutcome outcome) {
    std::lock_guard lock(mu_);
    if (ticket > answered_) answered_ = ticket;
    last_ = std::move(outcome);
    cv_.notify_all();
  }

  // Main thread, stopping: whoever still waits is told why.
  void close(std::string why) {
    std::lock_guard lock(mu_);
    closed_ = true;
    closed_why_ = std::move(why);
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t asked_ = 0;
  std::uint64_t answered_ = 0;
  api::ReloadOutcome last_;
  bool closed_ = false;
  std::string closed_why_;
};

}  // namespace bifrost::app
