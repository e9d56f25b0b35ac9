#include "config/tls_reader.h"

namespace bifrost::config {

namespace {

void read_tls(MapReader& t, TlsSettings& tls) {
  tls.ca_file = t.file("ca_file", "CA certificates (PEM) to verify the server with; the system's when empty");
  auto verify = t.get("verify", "bool", tls.verify ? "true" : "false",
                      "verify the server's certificate and host name (false: warned about)");
  tls.cert_file = t.file(
      "cert_file", "a client certificate (PEM; with its key unless key_file is given), for servers that ask for one");
  tls.key_file = t.file("key_file", "the client certificate's private key (PEM)", /*secret=*/true);
  if (t.describing()) return;
  if (verify) {
    if (auto v = parse_bool(*verify)) {
      tls.verify = *v;
      if (!*v) {
        verify->warning(
            "verify: false: the server's certificate and host name are not checked; anyone on the path can read and "
            "change the traffic");
      }
    }
  }
  if (!tls.key_file.empty() && tls.cert_file.empty()) t.node().error("key_file needs cert_file");
}

}  // namespace

void read_tls_section(MapReader& r, TlsSettings& tls, const std::string& key, const std::string& description) {
  if (r.section(key, description, [&](MapReader& t) { read_tls(t, tls); })) tls.given = true;
}

}  // namespace bifrost::config
