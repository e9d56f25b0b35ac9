#include "app/reload.h"

#include <httplib.h>
#include <signal.h>
#include <simdjson.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "app/api_client.h"
#include "app/cli.h"

namespace bifrost::app {

namespace {

constexpr const char* kReloadHelp =
    "usage: bifrost reload -c PATH [--api [https://]HOST:PORT] [--token TOKEN] [--ca-file F] [--pid PID]\n"
    "                      [--timeout SECONDS]\n"
    "\n"
    "Checks PATH, asks the running daemon to reload its config (POST /reload on its\n"
    "API) and returns once the new pipelines run. The daemon reads the config it was\n"
    "started with; PATH gives its api.listen and token and is checked first.\n"
    "  --api ADDR     the daemon's API (default: api.listen of PATH)\n"
    "  --token TOKEN  the API token (default: $BIFROST_API_TOKEN, or from PATH)\n"
    "  --ca-file F    HTTPS: verify the API's certificate with F (default: $BIFROST_API_CA_FILE,\n"
    "                 else the api.tls certificate of PATH itself)\n"
    "  --pid PID      without an API to reach (api.listen: off), send PID SIGHUP;\n"
    "                 the outcome is then only in the daemon's log\n"
    "  --timeout S    give up waiting after S seconds (default: the config's\n"
    "                 shutdown_timeout + 60: a reload drains the old pipelines first)\n"
    "Exit codes: 0 the new config runs, 2 invalid config (the running one stays),\n"
    "1 the daemon could not reload, or was not reached.\n";

std::string field(simdjson::ondemand::document& doc, const char* key) {
  std::string_view v;
  if (doc[key].get_string().get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}

std::string canonical(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : p.string();
}

}  // namespace

int run_reload(int argc, char** argv) {
  ApiTarget target;
  long pid = 0;
  long timeout_s = 0;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kReloadHelp, stdout);
      return kExitOk;
    }
    if (int took = take_api_arg(target, argc, argv, i, "reload"); took != 0) {
      if (took < 0) return kExitFatal;
      continue;
    }
    if ((a == "--pid" || a == "--timeout") && i + 1 < argc) {
      std::string v = argv[++i];
      long n = 0;
      auto r = std::from_chars(v.data(), v.data() + v.size(), n);
      if (r.ec != std::errc() || r.ptr != v.data() + v.size() || n <= 0) {
        std::fprintf(stderr, "bifrost reload: %s: expected a positive number, got \"%s\"\n", a.c_str(), v.c_str());
        return kExitFatal;
      }
      (a == "--pid" ? pid : timeout_s) = n;
      continue;
    }
    std::fprintf(stderr, "bifrost reload: unexpected argument \"%s\"\n", a.c_str());
    return kExitFatal;
  }
  if (target.config_path.empty()) {
    std::fputs("bifrost reload: missing -c PATH\n", stderr);
    return kExitFatal;
  }
  std::unique_ptr<config::Config> cfg;
  if (!resolve_api(target, &cfg)) return kExitInvalidConfig;  // its errors are printed
  if (target.address == "off") {
    if (pid == 0) {
      std::fputs(
          "bifrost reload: api.listen is off, so the daemon cannot be asked and waited for; turn the API on, or "
          "give --pid PID to send it SIGHUP\n",
          stderr);
      return kExitFatal;
    }
    if (::kill(static_cast<pid_t>(pid), SIGHUP) != 0) {
      std::fprintf(stderr, "bifrost reload: cannot signal %ld: %s\n", pid, std::strerror(errno));
      return kExitFatal;
    }
    std::printf("%s: valid; api.listen is off: sent SIGHUP to %ld (whether the new config runs is in its log)\n",
                target.config_path.c_str(), pid);
    return kExitOk;
  }
  std::string host;
  int port = 0;
  if (!api_endpoint(target, host, port, "reload")) return kExitFatal;
  if (timeout_s == 0) timeout_s = static_cast<long>(cfg->shutdown_timeout_ns / 1'000'000'000) + 60;
  auto made = api_client(target, host, port, "reload");
  if (!made) return kExitFatal;
  httplib::ClientImpl& client = *made;
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(timeout_s));
  httplib::Headers headers;
  if (!target.token.empty()) headers.emplace("Authorization", "Bearer " + target.token);
  auto res = client.Post("/reload", headers, "", "application/json");
  if (!res) {
    std::fprintf(stderr, "bifrost reload: cannot reach the daemon's API at %s: %s\n", target.address.c_str(),
                 api_error(res, client).c_str());
    if (!target.address_given) {
      std::fputs("  (is it running? a changed api.listen takes effect only when the daemon restarts)\n", stderr);
    }
    return kExitFatal;
  }
  if (res->status == 401) {
    std::fputs("bifrost reload: the API refused the token (401): give --token, or -c with the daemon's config\n",
               stderr);
    return kExitFatal;
  }
  simdjson::ondemand::parser parser;
  simdjson::padded_string body(res->body);
  simdjson::ondemand::document doc;
  std::string status, message, config;
  if (parser.iterate(body).get(doc) == simdjson::SUCCESS) {
    status = field(doc, "status");
    config = field(doc, "config");
    message = field(doc, "message");
  }
  if (status.empty()) {
    std::fprintf(stderr, "bifrost reload: unexpected answer %d: %s\n", res->status, res->body.c_str());
    return kExitFatal;
  }
  if (!config.empty() && canonical(config) != canonical(target.config_path)) {
    std::fprintf(stderr, "bifrost reload: note: the daemon reads %s, not %s\n", config.c_str(),
                 target.config_path.c_str());
  }
  if (status == "reloaded") {
    std::printf("%s: %s\n", config.empty() ? target.config_path.c_str() : config.c_str(), message.c_str());
    return kExitOk;
  }
  if (status == "invalid") {
    std::fprintf(stderr, "bifrost reload: the daemon refused the config; the running one stays:\n%s", message.c_str());
  } else {
    std::fprintf(stderr, "bifrost reload: the daemon could not reload: %s", message.c_str());
  }
  if (!message.empty() && message.back() != '\n') std::fputc('\n', stderr);
  return status == "invalid" ? kExitInvalidConfig : kExitFatal;
}

}  // namespace bifrost::app
