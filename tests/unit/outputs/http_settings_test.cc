#include <doctest.h>

#include "config/model.h"

using namespace bifrost;

namespace {
std::string load_errors(const std::string& output, std::string* warnings = nullptr) {
  config::Diagnostics diag;
  config::load_text("t.yaml", "inputs: [{id: i, type: stdin}]\noutputs:\n  - " + output + "\n", diag);
  if (warnings) *warnings = diag.render_warnings();
  return diag.render();
}
}  // namespace

TEST_CASE("the HTTP outputs share one spelling of compression, auth, tls and timeouts") {
  for (const char* head :
       {"{id: o, type: http, url: \"http://h:1/x\", ", "{id: o, type: elasticsearch, hosts: [\"http://h:1\"], ",
        "{id: o, type: influxdb, url: \"http://h:1\", database: d, measurement: m, fields: [x], "}) {
    INFO(head);
    CHECK(load_errors(std::string(head) +
                      "compression: gzip, auth: {user: u, password_file: /p}, tls: {ca_file: /ca, verify: false, "
                      "cert_file: /c, key_file: /k}, timeout: 3s, connect_timeout: 1s, "
                      "batch: {max_events: 10, max_bytes: 1MiB}}") == "");
    CHECK(load_errors(std::string(head) + "auth: {bearer: t}}") == "");
    CHECK(load_errors(std::string(head) + "auth: {api_key_file: /k}}") == "");
    CHECK(load_errors(std::string(head) + "auth: {user: u, bearer: t}}").find("auth needs one of") !=
          std::string::npos);
    CHECK(load_errors(std::string(head) + "auth: {bearer: t, bearer_file: /f}}").find("not both") != std::string::npos);
    CHECK(load_errors(std::string(head) + "tls: {key_file: /k}}").find("key_file needs cert_file") !=
          std::string::npos);
    CHECK(load_errors(std::string(head) + "compression: zip}").find("compression") != std::string::npos);
  }
}

TEST_CASE("the http output's old gzip key still works for a release, with a warning naming compression") {
  std::string warnings;
  CHECK(load_errors("{id: o, type: http, url: \"http://h:1/x\", gzip: true}", &warnings) == "");
  CHECK(warnings.find("t.yaml:3:") == 0);
  CHECK(warnings.find("warning: outputs[0].gzip: \"gzip\" is deprecated and goes in the next release: use "
                      "compression: gzip") != std::string::npos);
  CHECK(load_errors("{id: o, type: http, url: \"http://h:1/x\", compression: gzip}", &warnings) == "");
  CHECK(warnings.empty());
}
