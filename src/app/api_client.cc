#include "app/api_client.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "api/server.h"
#include "app/load.h"

namespace bifrost::app {

namespace {

std::string read_token_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

}  // namespace

int take_api_arg(ApiTarget& t, int argc, char** argv, int& i, const char* command) {
  std::string a = argv[i];
  std::string* into = a == "--api"                     ? &t.address
                      : (a == "-c" || a == "--config") ? &t.config_path
                      : a == "--token"                 ? &t.token
                                                       : nullptr;
  if (!into) return 0;
  if (i + 1 >= argc) {
    std::fprintf(stderr, "bifrost %s: %s needs a value\n", command, a.c_str());
    return -1;
  }
  *into = argv[++i];
  if (a == "--api") t.address_given = true;
  if (a == "--token") t.token_given = true;
  return 1;
}

bool resolve_api(ApiTarget& t, std::unique_ptr<config::Config>* cfg_out) {
  if (!t.token_given) {
    const char* env = std::getenv("BIFROST_API_TOKEN");
    if (env && *env) {
      t.token = env;
      t.token_given = true;
    }
  }
  if (t.config_path.empty()) return true;
  auto cfg = load_or_print(t.config_path);
  if (!cfg) return false;
  if (!t.address_given) t.address = cfg->api_listen;
  if (!t.token_given) t.token = cfg->api_token_file.empty() ? cfg->api_token : read_token_file(cfg->api_token_file);
  if (cfg_out) *cfg_out = std::move(cfg);
  return true;
}

bool api_endpoint(const ApiTarget& t, std::string& host, int& port, const char* command) {
  if (t.address == "off" || !api::split_host_port(t.address, host, port) || port == 0) {
    std::fprintf(stderr, "bifrost %s: no API address to reach (%s)\n", command, t.address.c_str());
    return false;
  }
  return true;
}

}  // namespace bifrost::app
