#include "common/kafka/security.h"

#include "common/kafka/oauth.h"
#include "core/secrets.h"

namespace bifrost::common::kafka {

namespace {

void read_sasl(config::MapReader& a, SaslSettings& s) {
  static const std::vector<std::string> kMechanisms = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"};
  auto mechanism = a.get("mechanism", "PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512 | OAUTHBEARER", "", "the SASL mechanism",
                         /*required=*/true);
  if (a.describing()) a.documented().back().choices = kMechanisms;
  auto username = a.get("username", "string", "", "the user (PLAIN, SCRAM); with OAUTHBEARER, the OIDC client id",
                        /*required=*/true);
  s.password = a.secret("password", "the user's password, or the OIDC client secret (or password_file)");
  s.password_file = a.file("password_file", "a file holding the password (read at start)", /*secret=*/true);
  s.token_url = a.string("token_url", "", "OAUTHBEARER: the OIDC token endpoint (client credentials grant)");
  s.scope = a.string("scope", "", "OAUTHBEARER: the scope asked for (optional)");
  if (a.describing()) return;
  const config::Node& n = a.node();
  if (mechanism) s.mechanism = config::parse_choice(*mechanism, kMechanisms).value_or("");
  if (username) s.username = username->scalar().value_or("");
  if (s.password.empty() == s.password_file.empty()) n.error("sasl needs password or password_file (one of them)");
  const bool oauth = s.mechanism == "OAUTHBEARER";
  if (oauth && s.token_url.empty()) n.error("OAUTHBEARER needs token_url (the OIDC token endpoint)");
  if (!oauth && !s.mechanism.empty() && (!s.token_url.empty() || !s.scope.empty()))
    n.error("token_url and scope are for mechanism: OAUTHBEARER");
}

}  // namespace

void read_security(config::MapReader& r, SecuritySettings& s) {
  config::read_tls_section(r, s.tls, "tls", "TLS to the brokers (security.protocol SSL, or SASL_SSL with sasl)");
  auto sasl = r.section("sasl", "SASL authentication (security.protocol SASL_PLAINTEXT, or SASL_SSL with tls)",
                        [&](config::MapReader& a) { read_sasl(a, s.sasl); });
  if (sasl && !s.tls.given && s.sasl.mechanism == "PLAIN") {
    sasl->warning("mechanism PLAIN without tls: the password crosses the network in clear text (add tls: {})");
  }
}

bool security_properties(const SecuritySettings& s, std::vector<std::pair<std::string, std::string>>& out,
                         std::string& error) {
  const bool sasl = !s.sasl.mechanism.empty();
  if (!s.tls.given && !sasl) return true;
  out.emplace_back("security.protocol", s.tls.given ? (sasl ? "SASL_SSL" : "SSL") : "SASL_PLAINTEXT");
  if (s.tls.given) {
    if (!s.tls.ca_file.empty()) out.emplace_back("ssl.ca.location", s.tls.ca_file);
    if (!s.tls.cert_file.empty()) {
      out.emplace_back("ssl.certificate.location", s.tls.cert_file);
      out.emplace_back("ssl.key.location", s.tls.key_file.empty() ? s.tls.cert_file : s.tls.key_file);
    }
    out.emplace_back("enable.ssl.certificate.verification", s.tls.verify ? "true" : "false");
    out.emplace_back("ssl.endpoint.identification.algorithm", s.tls.verify ? "https" : "none");
  }
  if (!sasl) return true;
  std::string password = s.sasl.password;
  if (!s.sasl.password_file.empty() && !core::secrets::read_file(s.sasl.password_file, password, error)) {
    error = "sasl.password_file: " + error;
    return false;
  }
  out.emplace_back("sasl.mechanisms", s.sasl.mechanism);
  if (s.sasl.mechanism == "OAUTHBEARER") {
    // bifrost's refresh callback gets the tokens (oauth.h): this names
    // the client credentials to it.
    out.emplace_back("sasl.oauthbearer.config", oidc_client(s.sasl, password));
  } else {
    out.emplace_back("sasl.username", s.sasl.username);
    out.emplace_back("sasl.password", password);
  }
  return true;
}

bool secret_property(const std::string& name) {
  return name.find("password") != std::string::npos || name.find("secret") != std::string::npos ||
         name == "ssl.key.pem" || name == "sasl.oauthbearer.config";
}

}  // namespace bifrost::common::kafka
