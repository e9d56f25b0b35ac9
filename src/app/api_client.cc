#include "app/api_client.h"

#include <openssl/x509_vfy.h>

#include <cstdio>
#include <cstdlib>

#include "api/server.h"
#include "app/load.h"
#include "core/secrets.h"

namespace bifrost::app {

namespace {

std::string read_token_file(const std::string& path) {
  std::string token, error;
  if (!core::secrets::read_file(path, token, error))
    std::fprintf(stderr, "bifrost: api.token_file: %s\n", error.c_str());
  return token;
}

// "https://HOST:PORT" -> HOST:PORT, noting the scheme.
std::string strip_scheme(const std::string& address, bool& tls) {
  for (const char* scheme : {"https://", "http://"}) {
    if (address.starts_with(scheme)) {
      tls = std::string_view(scheme) == "https://";
      return address.substr(std::string_view(scheme).size());
    }
  }
  return address;
}

}  // namespace

int take_api_arg(ApiTarget& t, int argc, char** argv, int& i, const char* command) {
  std::string a = argv[i];
  std::string* into = a == "--api"                     ? &t.address
                      : (a == "-c" || a == "--config") ? &t.config_path
                      : a == "--token"                 ? &t.token
                      : a == "--ca-file"               ? &t.ca_file
                                                       : nullptr;
  if (!into) return 0;
  if (i + 1 >= argc) {
    std::fprintf(stderr, "bifrost %s: %s needs a value\n", command, a.c_str());
    return -1;
  }
  *into = argv[++i];
  if (a == "--api") {
    t.address_given = true;
    t.address = strip_scheme(t.address, t.tls);
  }
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
  if (t.ca_file.empty()) {
    const char* env = std::getenv("BIFROST_API_CA_FILE");
    if (env && *env) t.ca_file = env;
  }
  if (t.config_path.empty()) return true;
  auto cfg = load_or_print(t.config_path);
  if (!cfg) return false;
  if (!t.address_given) {
    t.address = cfg->api_listen;
    t.tls = !cfg->api_tls_cert_file.empty();
  }
  if (!cfg->api_tls_cert_file.empty()) t.pin_file = cfg->api_tls_cert_file;
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

std::unique_ptr<httplib::ClientImpl> api_client(const ApiTarget& t, const std::string& host, int port,
                                                const char* command) {
  if (!t.tls) return std::make_unique<httplib::ClientImpl>(host, port);
  auto client = std::make_unique<httplib::SSLClient>(host, port);
  client->enable_server_certificate_verification(true);
  if (!t.ca_file.empty()) {
    client->set_ca_cert_path(t.ca_file.c_str());
  } else if (!t.pin_file.empty()) {
    // The daemon's own certificate, trusted as it is (partial chain): no
    // CA needed for a self-signed one, and no other certificate accepted.
    X509_STORE* store = X509_STORE_new();
    if (!store || X509_STORE_load_locations(store, t.pin_file.c_str(), nullptr) != 1) {
      if (store) X509_STORE_free(store);
      std::fprintf(stderr, "bifrost %s: cannot load the API's certificate %s (api.tls.cert_file)\n", command,
                   t.pin_file.c_str());
      return nullptr;
    }
    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
    client->set_ca_cert_store(store);  // owned by the client from here
  }
  return client;
}

std::string api_error(const httplib::Result& res, const httplib::ClientImpl& client) {
  std::string why = httplib::to_string(res.error());
  const auto* tls = dynamic_cast<const httplib::SSLClient*>(&client);
  if (tls && res.error() == httplib::Error::SSLServerVerification) {
    const long v = tls->get_openssl_verify_result();
    why += v != X509_V_OK ? std::string(": ") + X509_verify_cert_error_string(v)
                          : std::string(": the certificate does not name this host");
  }
  return why;
}

}  // namespace bifrost::app
