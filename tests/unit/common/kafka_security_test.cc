// The Kafka input's and output's tls and sasl options: what they accept
// and the librdkafka properties they become (the real broker's tests are
// in tests/integration/test_kafka_security.py).
#include <doctest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>

#include "common/kafka/oauth.h"
#include "common/kafka/security.h"
#include "config/model.h"
#include "core/secrets.h"
#include "support/temp_dir.h"

using namespace bifrost;
using Properties = std::map<std::string, std::string>;

namespace {

// The properties of `yaml` (the keys of one kafka component).
Properties properties(const std::string& yaml, std::string* error = nullptr) {
  const std::string text = "{" + yaml + "}";
  config::Diagnostics diag;
  config::Context ctx{&diag, config::process_env()};
  config::Node node(YAML::Load(text), std::make_shared<config::Source>(config::Source{"t.yaml", text, {}}), "", &ctx);
  config::MapReader r(node);
  common::kafka::SecuritySettings s;
  common::kafka::read_security(r, s);
  r.finish();
  INFO(diag.render());
  REQUIRE(diag.ok());
  std::vector<std::pair<std::string, std::string>> out;
  std::string why;
  const bool ok = common::kafka::security_properties(s, out, why);
  if (error) *error = why;
  if (!ok) return {};
  return Properties(out.begin(), out.end());
}

std::string load_errors(const std::string& keys, std::string* warnings = nullptr) {
  config::Diagnostics diag;
  config::load_text(
      "t.yaml",
      "inputs: [{id: i, type: stdin}]\noutputs:\n  - {id: k, type: kafka, brokers: [b:9092], topic: t, " + keys + "}\n",
      diag);
  if (warnings) *warnings = diag.render_warnings();
  return diag.render();
}

}  // namespace

TEST_CASE("kafka tls and sasl become security.protocol and librdkafka's ssl and sasl properties") {
  CHECK(properties("").empty());
  CHECK(properties("tls: {}") == Properties{{"security.protocol", "SSL"},
                                            {"enable.ssl.certificate.verification", "true"},
                                            {"ssl.endpoint.identification.algorithm", "https"}});
  CHECK(properties("tls: {ca_file: /ca.pem, cert_file: /c.pem, key_file: /c.key}, "
                   "sasl: {mechanism: SCRAM-SHA-512, username: u, password: pw-inline}") ==
        Properties{{"security.protocol", "SASL_SSL"},
                   {"ssl.ca.location", "/ca.pem"},
                   {"ssl.certificate.location", "/c.pem"},
                   {"ssl.key.location", "/c.key"},
                   {"enable.ssl.certificate.verification", "true"},
                   {"ssl.endpoint.identification.algorithm", "https"},
                   {"sasl.mechanisms", "SCRAM-SHA-512"},
                   {"sasl.username", "u"},
                   {"sasl.password", "pw-inline"}});
  auto p = properties("sasl: {mechanism: SCRAM-SHA-256, username: u, password: pw-inline}");
  CHECK(p["security.protocol"] == "SASL_PLAINTEXT");
  p = properties("tls: {verify: false}");
  CHECK(p["enable.ssl.certificate.verification"] == "false");
  CHECK(p["ssl.endpoint.identification.algorithm"] == "none");
  p = properties("tls: {cert_file: /both.pem}");  // a PEM holding the certificate and its key
  CHECK(p["ssl.key.location"] == "/both.pem");
  p = properties(
      "tls: {}, sasl: {mechanism: OAUTHBEARER, username: client-id, password: client-secret, "
      "token_url: \"https://idp/token\", scope: kafka}");
  CHECK(p["sasl.mechanisms"] == "OAUTHBEARER");
  // bifrost's refresh callback gets the tokens; the config names the client, holds no secret
  CHECK(p["sasl.oauthbearer.config"].starts_with("bifrost-oidc:"));
  CHECK(p["sasl.oauthbearer.config"].find("client-secret") == std::string::npos);
  CHECK(p.count("sasl.password") == 0);
  core::secrets::clear_for_tests();
}

TEST_CASE("the sasl password file is read when the client is made, and a missing one is named") {
  testing::TempDir dir;
  std::ofstream(dir / "pw") << "from-the-file\n";
  auto p = properties("sasl: {mechanism: PLAIN, username: u, password_file: " + (dir / "pw") + "}");
  CHECK(p["sasl.password"] == "from-the-file");
  std::string error;
  CHECK(properties("sasl: {mechanism: PLAIN, username: u, password_file: " + (dir / "nope") + "}", &error).empty());
  CHECK(error == "sasl.password_file: cannot read " + (dir / "nope") + ": No such file or directory");
  core::secrets::clear_for_tests();
}

TEST_CASE("kafka tls and sasl mistakes are located config errors; risky choices are warnings") {
  CHECK(load_errors("sasl: {username: u, password: p}").find("missing required key \"mechanism\"") !=
        std::string::npos);
  CHECK(load_errors("sasl: {mechanism: SCRAM-SHA-1, username: u, password: p}")
            .find("\"SCRAM-SHA-1\" is not one of PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512 | OAUTHBEARER; did you mean "
                  "\"SCRAM-SHA-512\"?") != std::string::npos);
  CHECK(load_errors("sasl: {mechanism: PLAIN, password: p}").find("missing required key \"username\"") !=
        std::string::npos);
  CHECK(load_errors("sasl: {mechanism: PLAIN, username: u}").find("password or password_file") != std::string::npos);
  CHECK(load_errors("sasl: {mechanism: PLAIN, username: u, password: p, password_file: /f}")
            .find("password or password_file") != std::string::npos);
  CHECK(load_errors("sasl: {mechanism: OAUTHBEARER, username: u, password: p}").find("needs token_url") !=
        std::string::npos);
  CHECK(load_errors("sasl: {mechanism: PLAIN, username: u, password: p, token_url: x}")
            .find("token_url and scope are for mechanism: OAUTHBEARER") != std::string::npos);
  CHECK(load_errors("tls: {key_file: /k}").find("key_file needs cert_file") != std::string::npos);
  CHECK(load_errors("tls: {ca_file: \"\"}").find("t.yaml:3:") == 0);
  CHECK(load_errors("tls: {cafile: /ca}").find("did you mean \"ca_file\"") != std::string::npos);

  std::string warnings;
  CHECK(load_errors("sasl: {mechanism: PLAIN, username: u, password: pw-clear}", &warnings) == "");
  CHECK(warnings.find("mechanism PLAIN without tls: the password crosses the network in clear text") !=
        std::string::npos);
  CHECK(load_errors("tls: {verify: false}", &warnings) == "");
  CHECK(warnings.find("t.yaml:3:") == 0);
  CHECK(warnings.find("outputs[0].tls.verify: verify: false") != std::string::npos);
  core::secrets::clear_for_tests();
}

TEST_CASE("the files kafka's tls and sasl name are recorded for the check at start, with their keys") {
  config::Diagnostics diag;
  auto cfg = config::load_text("t.yaml",
                               "inputs: [{id: i, type: stdin}]\n"
                               "outputs:\n"
                               "  - id: k\n"
                               "    type: kafka\n"
                               "    brokers: [b:9092]\n"
                               "    topic: t\n"
                               "    tls: {ca_file: /etc/ca.pem, cert_file: /etc/c.pem, key_file: /etc/c.key}\n"
                               "    sasl: {mechanism: PLAIN, username: u, password_file: /etc/pw}\n",
                               diag);
  INFO(diag.render());
  REQUIRE(cfg);
  REQUIRE(cfg->files.size() == 4);
  CHECK(cfg->files[0].file == "/etc/ca.pem");
  CHECK(cfg->files[0].path == "outputs[0].tls.ca_file");
  CHECK(cfg->files[0].loc.line == 7);
  CHECK_FALSE(cfg->files[0].secret);
  CHECK(cfg->files[2].file == "/etc/c.key");
  CHECK(cfg->files[2].secret);
  CHECK(cfg->files[3].path == "outputs[0].sasl.password_file");
  CHECK(cfg->files[3].secret);
}

TEST_CASE("a secret passthrough property is masked and its value never quoted") {
  config::Diagnostics diag;
  config::load_text("t.yaml",
                    "inputs: [{id: i, type: stdin}]\noutputs:\n  - {id: k, type: kafka, brokers: [b:9092], topic: t, "
                    "librdkafka: {sasl.password: passthrough-pw, ssl.key.password: key-pw-1234}}\n",
                    diag);
  CHECK(diag.ok());
  CHECK(core::secrets::masked("passthrough-pw key-pw-1234") == "*** ***");
  core::secrets::clear_for_tests();
}

TEST_CASE("the principal of an OAUTHBEARER token is its sub claim") {
  // {"alg":"none"} . {"sub":"bifrost","exp":1} . (no signature)
  CHECK(common::kafka::jwt_subject("eyJhbGciOiJub25lIn0.eyJzdWIiOiJiaWZyb3N0IiwiZXhwIjoxfQ.") == "bifrost");
  CHECK(common::kafka::jwt_subject("eyJhbGciOiJub25lIn0.eyJleHAiOjF9.") == "");
  CHECK(common::kafka::jwt_subject("not a token") == "");
}
