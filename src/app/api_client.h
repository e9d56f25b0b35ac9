// How the commands that talk to a running daemon (tap, top, reload) reach
// its API: --api [https://]HOST:PORT, or -c PATH (the daemon's config: its
// api.listen, token and api.tls); the token from --token, else
// $BIFROST_API_TOKEN, else the config. Over HTTPS the daemon's certificate
// is verified (host name included) against --ca-file (else
// $BIFROST_API_CA_FILE); with neither, against the certificate api.tls
// names when -c is given (trusted as it is: a self-signed one works), else
// the system's CAs.
#pragma once

#include <memory>
#include <string>

#include <httplib.h>

#include "config/model.h"

namespace bifrost::app {

struct ApiTarget {
  std::string address = "127.0.0.1:9598";
  std::string token;
  std::string config_path;
  std::string ca_file;   // --ca-file: what the daemon's certificate is verified against
  std::string pin_file;  // from -c: api.tls.cert_file, trusted as it is
  bool tls = false;      // https:// given, or api.tls in the config
  bool address_given = false;
  bool token_given = false;
};

// When argv[i] is --api, -c/--config, --token or --ca-file, takes it and its value
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

// A client of the daemon's API at HOST:PORT: plain HTTP, or HTTPS with the
// trust described above; nullptr (and a message) when the CA file cannot
// be loaded.
std::unique_ptr<httplib::ClientImpl> api_client(const ApiTarget& t, const std::string& host, int port,
                                                const char* command);

// Why a request of `client` failed, in words (for HTTPS: what the
// certificate verification said).
std::string api_error(const httplib::Result& res, const httplib::ClientImpl& client);

}  // namespace bifrost::app
