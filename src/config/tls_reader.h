// The `tls:` keys of every client bifrost opens to a server (the HTTP
// outputs, Kafka), read by one function so that they are spelt, defaulted
// and checked the same everywhere:
//
//   tls: {ca_file: F, verify: true, cert_file: F, key_file: F}
//
// Pure: the files are recorded (Context::files) and checked at start, not
// opened here.
#pragma once

#include <string>

#include "config/reader.h"

namespace bifrost::config {

struct TlsSettings {
  bool given = false;               // `tls:` is in the config (Kafka: TLS is on)
  std::string ca_file;              // empty: the system's CA certificates
  bool verify = true;               // the server's certificate and host name
  std::string cert_file, key_file;  // a client certificate (PEM), optional
};

// Reads `key` (a map of the keys above) into `tls`. verify: false is a
// located warning: the traffic is then open to anyone on the path.
void read_tls_section(MapReader& r, TlsSettings& tls, const std::string& key, const std::string& description);

}  // namespace bifrost::config
