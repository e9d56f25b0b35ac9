#include "app/tap.h"

#include <httplib.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "app/api_client.h"
#include "app/cli.h"
#include "core/io.h"

namespace bifrost::app {

namespace {

constexpr const char* kTapHelp =
    "usage: bifrost tap COMPONENT [--pipeline P] [--limit N] [--when COND] [--rate N]\n"
    "                  [--api [https://]HOST:PORT | -c PATH] [--token TOKEN] [--ca-file F]\n"
    "\n"
    "Prints the live events leaving COMPONENT of the running daemon, one JSON object\n"
    "per line, until --limit events were printed, the daemon stops or reloads, or you\n"
    "press Ctrl-C. A slow reader never slows the daemon: copies it cannot take are\n"
    "dropped and counted (bifrost_tap_dropped_total).\n"
    "  --pipeline P   the pipeline, when COMPONENT is in more than one\n"
    "  --when COND    only events for which COND holds (a `when:` condition)\n"
    "  --rate N       show at most N events a second (default 1000; 0: no bound).\n"
    "                 Past it, and past 100 x N events looked at, the tap samples:\n"
    "                 what it skips is counted in bifrost_tap_dropped_total\n"
    "  --api ADDR     the daemon's api.listen (default 127.0.0.1:9598)\n"
    "  -c PATH        read api.listen and the token from the daemon's config\n"
    "  --token TOKEN  the API token (default: $BIFROST_API_TOKEN, or from -c)\n"
    "  --ca-file F    HTTPS: verify the API's certificate with F (default: $BIFROST_API_CA_FILE;\n"
    "                 with -c, the api.tls certificate itself; else the system's CAs)\n";

}  // namespace

int run_tap(int argc, char** argv) {
  std::string component, pipeline, limit, when, rate;
  ApiTarget target;
  for (int i = 2; i < argc; ++i) {
    if (int took = take_api_arg(target, argc, argv, i, "tap"); took != 0) {
      if (took < 0) return kExitFatal;
      continue;
    }
    std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bifrost tap: %s needs a value\n", a.c_str());
        return false;
      }
      out = argv[++i];
      return true;
    };
    bool ok = true;
    if (a == "-h" || a == "--help") {
      std::fputs(kTapHelp, stdout);
      return kExitOk;
    } else if (a == "--pipeline") ok = value(pipeline);
    else if (a == "--limit") ok = value(limit);
    else if (a == "--when") ok = value(when);
    else if (a == "--rate") ok = value(rate);
    else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "bifrost tap: unknown option %s\n", a.c_str());
      return kExitFatal;
    } else if (component.empty()) component = a;
    else {
      std::fprintf(stderr, "bifrost tap: unexpected argument %s\n", a.c_str());
      return kExitFatal;
    }
    if (!ok) return kExitFatal;
  }
  if (component.empty()) {
    std::fputs(kTapHelp, stderr);
    return kExitFatal;
  }
  if (!resolve_api(target)) return kExitInvalidConfig;
  std::string host;
  int port = 0;
  if (!api_endpoint(target, host, port, "tap")) return kExitFatal;
  const std::string& api = target.address;
  const std::string& token = target.token;
  auto made = api_client(target, host, port, "tap");
  if (!made) return kExitFatal;
  httplib::ClientImpl& client = *made;
  client.set_read_timeout(std::chrono::hours(24 * 365));
  httplib::Params params{{"component", component}};
  if (!pipeline.empty()) params.emplace("pipeline", pipeline);
  if (!limit.empty()) params.emplace("limit", limit);
  if (!when.empty()) params.emplace("when", when);
  if (!rate.empty()) params.emplace("rate", rate);
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  std::string path = httplib::append_query_params("/tap", params);
  int status = 0;
  std::string error_body;
  auto res = client.Get(
      path, headers,
      [&](const httplib::Response& r) {
        status = r.status;
        return true;
      },
      [&](const char* data, std::size_t n) {
        if (status != 200) {
          error_body.append(data, n);
          return true;
        }
        return core::write_all(1, std::string_view(data, n)).has_value();  // stdout closed: stop reading
      });
  if (!res) {
    if (status == 200) return kExitOk;  // we stopped reading (stdout closed)
    std::fprintf(stderr, "bifrost tap: cannot reach the API at %s: %s\n", api.c_str(), api_error(res, client).c_str());
    return kExitFatal;
  }
  if (res->status != 200) {
    std::fprintf(stderr, "bifrost tap: %d %s", res->status,
                 error_body.empty() ? res->body.c_str() : error_body.c_str());
    return kExitFatal;
  }
  return kExitOk;
}

}  // namespace bifrost::app
