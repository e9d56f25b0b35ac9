// How the commands that talk to a running daemon (tap, top, reload) reach
// its API: --api HOST:PORT, or -c PATH (the daemon's config: its api.listen
// and token); the token from --token, else $BIFROST_API_TOKEN, else the config.
#pragma once

#include <memory>
#include <string>

#include "config/model.h"

namespace bifrost::app {

struct ApiTarget {
  std::string address = "127.0.0.1:9598";
  std::string token;
  std::string config_path;
  bool address_given = false;
  bool token_given = false;
};

// When argv[i] is --api, -c/--config or --token, takes it and its value
// (advancing i) and returns 1; 0 when it is none of them; -1 (and a
// message) when its value is missing.
int take_api_arg(ApiTarget& t, int argc, char** argv, int& i, const char* command);

// Once the arguments are read: with -c, loads the config (printing its
// errors; false when it is invalid) and takes api.listen and the token from
// it unless given. `cfg`, when not null, receives the loaded config.
bool resolve_api(ApiTarget& t, std::unique_ptr<config::Config>* cfg = nullptr);

// HOST and PORT of the address; false (and a message) when there is no API
// to reach ("off", or not HOST:PORT, or port 0).
bool api_endpoint(const ApiTarget& t, std::string& host, int& port, const char* command);

}  // namespace bifrost::app
