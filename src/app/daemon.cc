#include "app/daemon.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "app/cli.h"
#include "config/model.h"
#include "core/log.h"
#include "pipeline/pipeline.h"

namespace bifrost::app {

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kLog = "bifrost";

struct Running {
  std::unique_ptr<config::Config> config;
  std::vector<std::unique_ptr<pipeline::Pipeline>> pipelines;
};

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

std::unique_ptr<config::Config> load(const std::string& path, bool reload) {
  config::Diagnostics diag;
  auto cfg = config::load(path, diag);
  if (!cfg) {
    std::string text = diag.render();
    if (!text.empty() && text.back() == '\n') text.pop_back();
    if (reload) {
      core::log::error(kLog, "reload refused, the running config stays: ", diag.items().size(), " error(s)\n", text);
    } else {
      std::fputs(diag.render().c_str(), stderr);
      std::fprintf(stderr, "%zu error(s) in %s\n", diag.items().size(), path.c_str());
    }
  }
  return cfg;
}

bool start(Running& r) {
  try {
    for (const auto& pc : r.config->pipelines) {
      r.pipelines.push_back(std::make_unique<pipeline::Pipeline>(pc, *r.config));
    }
  } catch (const std::exception& e) {
    core::log::error(kLog, "cannot build the pipelines: ", e.what());
    r.pipelines.clear();
    return false;
  }
  for (auto& p : r.pipelines) p->start();
  std::size_t components = 0;
  for (const auto& pc : r.config->pipelines) components += pc.inputs.size() + pc.filters.size() + pc.outputs.size();
  core::log::info(kLog, "running ", r.pipelines.size(), " pipeline(s), ", components, " component(s)");
  return true;
}

// Peak resident memory of this process (VmHWM), in KiB; 0 if unknown.
// (getrusage's ru_maxrss can include the parent's memory from before exec.)
long peak_rss_kib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  long kib = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib;
}

void log_summary(const Running& r) {
  for (const auto& p : r.pipelines) {
    for (const pipeline::ComponentStats* s : p->stats()) {
      std::string dropped;
      for (const auto& [reason, n] : s->dropped()) dropped += " dropped{" + reason + "}=" + std::to_string(n);
      core::log::info(kLog, p->id(), "/", s->component, " (", s->kind, " ", s->type, "): in=", s->events_in.load(),
                      " out=", s->events_out.load(), dropped, s->events_failed.load() ? " failed=" : "",
                      s->events_failed.load() ? std::to_string(s->events_failed.load()) : "");
    }
  }
}

// Stops reading, delivers what is in flight until the deadline. Returns
// whether everything was delivered.
bool stop(Running& r, Clock::time_point deadline) {
  for (auto& p : r.pipelines) p->stop_inputs();
  bool complete = true;
  for (auto& p : r.pipelines) complete = p->drain(deadline) && complete;
  return complete;
}

// During a stop: a second signal exits at once; a stop stuck past its
// deadline (an output blocked in a write) is ended.
void start_stop_watchdog(Clock::time_point deadline) {
  std::thread([deadline] {
    sigset_t set = handled_signals();
    while (true) {
      timespec ts{0, 100'000'000};
      int sig = sigtimedwait(&set, nullptr, &ts);
      if (sig == SIGTERM || sig == SIGINT) {
        core::log::warn(kLog, "second signal: exiting now; undelivered events stay unacknowledged");
        std::_Exit(kExitFatal);
      }
      if (Clock::now() > deadline + std::chrono::seconds(5)) {
        core::log::error(kLog, "stop is stuck past shutdown_timeout; exiting; undelivered events stay unacknowledged");
        std::_Exit(kExitOk);
      }
    }
  }).detach();
}

}  // namespace

int run_daemon(const std::string& config_path) {
  ::signal(SIGPIPE, SIG_IGN);  // a closed stdout is an EPIPE error, handled by the output
  sigset_t set = handled_signals();
  // Block before any thread starts, so only sigtimedwait() sees them.
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  Running running;
  running.config = load(config_path, false);
  if (!running.config) return kExitInvalidConfig;
  core::log::configure(running.config->log_level, running.config->log_format);
  if (!start(running)) return kExitFatal;

  while (true) {
    timespec ts{0, 100'000'000};
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGHUP) {
      core::log::info(kLog, "SIGHUP: reloading ", config_path);
      auto fresh = load(config_path, true);
      if (!fresh) continue;
      auto deadline = Clock::now() + std::chrono::nanoseconds(running.config->shutdown_timeout_ns);
      if (!stop(running, deadline)) core::log::warn(kLog, "reload: some events were not delivered in time; they stay unacknowledged");
      log_summary(running);
      running.pipelines.clear();  // before the config they point into
      running.config = std::move(fresh);
      core::log::configure(running.config->log_level, running.config->log_format);
      if (!start(running)) return kExitFatal;
      core::log::info(kLog, "reloaded");
      continue;
    }
    bool finished = false;
    if (sig == SIGTERM || sig == SIGINT) {
      core::log::info(kLog, sig == SIGTERM ? "SIGTERM" : "SIGINT", ": stopping; delivering what is in flight");
    } else {
      finished = true;
      for (const auto& p : running.pipelines) finished = finished && p->inputs_finished();
      if (!finished) continue;
      core::log::info(kLog, "every input has ended; delivering what is in flight");
    }
    auto deadline = Clock::now() + std::chrono::nanoseconds(running.config->shutdown_timeout_ns);
    start_stop_watchdog(deadline);
    bool complete = stop(running, deadline);
    log_summary(running);
    if (!complete) {
      core::log::warn(kLog, "shutdown_timeout passed before everything was delivered; what was not delivered stays unacknowledged");
    }
    core::log::info(kLog, "stopped; peak_rss_kib=", peak_rss_kib());
    return kExitOk;
  }
}

}  // namespace bifrost::app
