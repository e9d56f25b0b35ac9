// The Kafka input's and output's first-class security options, mapped to
// librdkafka's properties:
//
//   tls:  {ca_file, cert_file, key_file, verify}        (config/tls_reader.h, as the HTTP outputs)
//   sasl: {mechanism: PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512 | OAUTHBEARER,
//          username, password | password_file,
//          token_url, scope}                           (OAUTHBEARER: OIDC client credentials, oauth.h)
//
// security.protocol follows: tls -> SSL, sasl -> SASL_PLAINTEXT, both ->
// SASL_SSL. The `librdkafka:` passthrough is applied after these and wins.
// Reading is pure; the password file is read when the client is made.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "config/reader.h"
#include "config/tls_reader.h"

namespace bifrost::common::kafka {

struct SaslSettings {
  std::string mechanism;  // empty: no SASL
  std::string username;
  std::string password, password_file;  // one of them
  std::string token_url, scope;         // OAUTHBEARER only
};

struct SecuritySettings {
  config::TlsSettings tls;
  SaslSettings sasl;
};

// Reads `tls` and `sasl` (each a section).
void read_security(config::MapReader& r, SecuritySettings& s);

// librdkafka's properties for `s`, in order; the password read from its
// file now. False (and `error`, naming the key and the file) when the file
// cannot be read.
bool security_properties(const SecuritySettings& s, std::vector<std::pair<std::string, std::string>>& out,
                         std::string& error);

// Whether a librdkafka property holds a secret (sasl.password,
// ssl.key.password, ...): its value is masked and never quoted.
bool secret_property(const std::string& name);

}  // namespace bifrost::common::kafka
