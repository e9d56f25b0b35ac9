#include "app/daemon.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "api/server.h"
#include "app/cli.h"
#include "app/load.h"
#include "app/reload_requests.h"
#include "app/service.h"
#include "config/model.h"
#include "config/registry.h"
#include "core/log.h"
#include "core/secrets.h"
#include "pipeline/runtime.h"

namespace bifrost::app {

namespace {

using Clock = std::chrono::steady_clock;

// The running pipelines and the config they were built from (they point
// into it), destroyed after them.
struct Runtime final : pipeline::Runtime {
  std::unique_ptr<config::Config> config;
  ~Runtime() override { pipelines.clear(); }
};
constexpr const char* kLog = "bifrost";

// Sent by bifrost to itself when an input ends, so that the main loop
// stops at once when every input has ended, not at its next 100 ms tick.
int input_end_signal() { return SIGRTMIN; }

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, input_end_signal());
  return set;
}

// Checks the files the config names (certificates, keys, secrets): false,
// with every error logged and in `errors`, when one cannot be read.
bool files_ready(const config::Config& cfg, std::string& errors) {
  std::vector<std::string> warnings;
  errors = check_files(cfg, warnings);
  for (const auto& w : warnings) core::log::warn(kLog, w);
  if (errors.empty()) return true;
  std::string text = errors;
  if (text.back() == '\n') text.pop_back();
  core::log::error(kLog, text);
  return false;
}

// A reload's errors go to the log (the daemon may run under systemd), and
// into `errors` for whoever asked through the API.
std::unique_ptr<config::Config> load_for_reload(const std::string& path, std::string& errors) {
  config::Diagnostics diag;
  auto cfg = config::load(path, diag);
  for (const auto& w : diag.warnings()) {
    core::log::warn(kLog, w.loc.file, ":", w.loc.line, ":", w.loc.col, ": ", w.path, ": ", w.message);
  }
  if (!cfg) {
    errors = diag.render();
    std::string text = errors;
    if (!text.empty() && text.back() == '\n') text.pop_back();
    core::log::error(kLog, "reload refused, the running config stays: ", diag.items().size(), " error(s)\n", text);
    return cfg;
  }
  // The files it names are checked before the running pipelines stop.
  if (!files_ready(*cfg, errors)) {
    core::log::error(kLog, "reload refused, the running config stays: a file it names cannot be read");
    return nullptr;
  }
  return cfg;
}

void apply_log_settings(const config::Config& c) {
  core::log::configure(c.log_level, c.log_format);
  core::log::set_rate_limit(std::chrono::nanoseconds(c.log_rate_limit_ns));
}

std::string summary(const Runtime& rt) {
  std::size_t components = 0;
  for (const auto& pc : rt.config->pipelines) components += pc.inputs.size() + pc.filters.size() + pc.outputs.size();
  return "running " + std::to_string(rt.pipelines.size()) + " pipeline(s), " + std::to_string(components) +
         " component(s)";
}

// Builds and starts the pipelines of `cfg`; nullptr (and why in `error`)
// when they cannot be built.
std::shared_ptr<Runtime> start(std::unique_ptr<config::Config> cfg, std::string& error) {
  auto rt = std::make_shared<Runtime>();
  rt->config = std::move(cfg);
  try {
    for (const auto& pc : rt->config->pipelines) {
      rt->pipelines.push_back(std::make_unique<pipeline::Pipeline>(topology_of(pc, *rt->config)));
      rt->pipelines.back()->on_input_end([] { ::kill(::getpid(), input_end_signal()); });
    }
  } catch (const std::exception& e) {
    error = e.what();
    core::log::error(kLog, "cannot build the pipelines: ", e.what());
    return nullptr;
  }
  for (auto& p : rt->pipelines) p->start();
  core::log::info(kLog, summary(*rt));
  return rt;
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

void log_summary(const Runtime& r) {
  for (const auto& p : r.pipelines) {
    for (const core::ComponentStats* s : p->stats()) {
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
bool stop(Runtime& r, Clock::time_point deadline) {
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

// The API token: inline, or read from token_file (trailing newline removed).
std::optional<std::string> api_token(const config::Config& c) {
  if (c.api_token_file.empty()) return c.api_token;
  std::string token, error;
  if (!core::secrets::read_file(c.api_token_file, token, error)) {
    core::log::error(kLog, "api.token_file: ", error);
    return std::nullopt;
  }
  return token;
}

}  // namespace

int run_daemon(const std::string& config_path) {
  ::signal(SIGPIPE, SIG_IGN);  // a closed stdout or socket is an EPIPE error, handled where it happens
  sigset_t set = handled_signals();
  // Block before any thread starts, so only sigtimedwait() sees them.
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  auto cfg = load_or_print(config_path);
  if (!cfg) return kExitInvalidConfig;
  apply_log_settings(*cfg);
  if (std::string errors; !files_ready(*cfg, errors)) return kExitFatal;

  ReloadRequests requests;
  // The running generation, shared with the API; `ready` is what /ready says.
  std::mutex current_mu;
  std::shared_ptr<Runtime> current;
  std::atomic<bool> ready{false};
  auto swap_current = [&](std::shared_ptr<Runtime> next) {
    std::lock_guard lock(current_mu);
    current.swap(next);
    return next;  // the previous one
  };

  std::unique_ptr<api::Server> server;
  const std::string api_listen = cfg->api_listen;
  if (api_listen != "off") {
    auto token = api_token(*cfg);
    if (!token) return kExitFatal;
    api::ServerOptions options;
    options.listen = api_listen;
    options.token = *token;
    if (cfg->api_public) options.public_paths = *cfg->api_public;
    options.tls_cert_file = cfg->api_tls_cert_file;
    options.tls_key_file = cfg->api_tls_key_file;
    options.metric_families = config::declared_metric_families(config::components());
    options.reload = [&] {
      // A reload drains the old pipelines first (up to shutdown_timeout).
      auto outcome = requests.ask([] { ::kill(::getpid(), SIGHUP); }, std::chrono::minutes(30));
      std::error_code ec;
      outcome.config = std::filesystem::absolute(config_path, ec).string();
      return outcome;
    };
    std::string host;
    int port = 0;
    if (token->empty() && api::split_host_port(api_listen, host, port) && !api::is_loopback(host)) {
      core::log::warn(kLog, "api.listen ", api_listen,
                      " is reachable from other hosts and the API has no token: anyone who reaches it may read "
                      "/metrics, /tap the events and /reload; set api.token_file");
    }
    server = std::make_unique<api::Server>(
        std::move(options),
        [&] {
          std::lock_guard lock(current_mu);
          return current;
        },
        [&] { return ready.load(); });
    auto bound = server->start();
    if (!bound) {
      core::log::error(kLog, bound.error().message);
      return kExitFatal;
    }
    core::log::info(kLog, "api: listening on ", cfg->api_tls_cert_file.empty() ? "http://" : "https://", *bound);
  }

  std::string build_error;
  auto running = start(std::move(cfg), build_error);
  if (!running) return kExitFatal;
  swap_current(running);
  ready.store(true);
  service::ready("running");

  while (true) {
    timespec ts{0, 100'000'000};
    int sig = sigtimedwait(&set, nullptr, &ts);
    core::log::flush_suppressed();
    service::watchdog_tick();
    if (sig == SIGHUP) {
      const std::uint64_t ticket = requests.begin();
      core::log::info(kLog, "reloading ", config_path);
      std::string errors;
      auto fresh = load_for_reload(config_path, errors);
      if (!fresh) {
        requests.finish(ticket, {api::ReloadOutcome::Status::kInvalid, errors, ""});
        continue;
      }
      if (fresh->api_listen != api_listen) {
        core::log::warn(kLog, "reload: api.listen changed; the API keeps ", api_listen, " until a restart");
      }
      const config::Config& old = *running->config;
      if (fresh->api_token != old.api_token || fresh->api_token_file != old.api_token_file ||
          fresh->api_public != old.api_public || fresh->api_tls_cert_file != old.api_tls_cert_file ||
          fresh->api_tls_key_file != old.api_tls_key_file) {
        core::log::warn(kLog,
                        "reload: api.token, api.public or api.tls changed; the API keeps its own until a restart");
      }
      ready.store(false);
      service::reloading();
      auto deadline = Clock::now() + std::chrono::nanoseconds(running->config->shutdown_timeout_ns);
      if (!stop(*running, deadline)) {
        core::log::warn(kLog, "reload: some events were not delivered in time; they stay unacknowledged");
      }
      log_summary(*running);
      swap_current(nullptr);
      running.reset();  // closes taps on the old pipelines
      apply_log_settings(*fresh);
      std::string build_error;
      running = start(std::move(fresh), build_error);
      if (!running) {
        requests.finish(ticket, {api::ReloadOutcome::Status::kFailed,
                                 "cannot build the pipelines: " + build_error + "; bifrost exits", ""});
        requests.close("bifrost exited");
        return kExitFatal;
      }
      swap_current(running);
      ready.store(true);
      service::ready("running (reloaded)");
      core::log::info(kLog, "reloaded");
      requests.finish(ticket, {api::ReloadOutcome::Status::kReloaded, "reloaded: " + summary(*running), ""});
      continue;
    }
    if (sig == SIGTERM || sig == SIGINT) {
      core::log::info(kLog, sig == SIGTERM ? "SIGTERM" : "SIGINT", ": stopping; delivering what is in flight");
    } else {
      bool finished = true;
      for (const auto& p : running->pipelines) finished = finished && p->inputs_finished();
      if (!finished) continue;
      core::log::info(kLog, "every input has ended; delivering what is in flight");
    }
    ready.store(false);
    requests.close("bifrost is stopping");
    service::stopping();
    auto deadline = Clock::now() + std::chrono::nanoseconds(running->config->shutdown_timeout_ns);
    start_stop_watchdog(deadline);
    bool complete = stop(*running, deadline);
    log_summary(*running);
    if (!complete) {
      core::log::warn(
          kLog, "shutdown_timeout passed before everything was delivered; what was not delivered stays unacknowledged");
    }
    if (server) server->stop();
    swap_current(nullptr);
    running.reset();
    core::log::flush_suppressed(/*all=*/true);
    core::log::info(kLog, "stopped; peak_rss_kib=", peak_rss_kib());
    return kExitOk;
  }
}

}  // namespace bifrost::app
