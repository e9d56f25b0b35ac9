#include <doctest.h>

#include "config/model.h"

using namespace bifrost;

namespace {
config::EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

struct Result {
  std::unique_ptr<config::Config> cfg;
  config::Diagnostics diag;
};

Result load(const std::string& text, std::map<std::string, std::string> env = {}) {
  Result r;
  r.cfg = config::load_text("t.yaml", text, r.diag, env_of(std::move(env)));
  return r;
}

bool has_error(const Result& r, int line, int col, const std::string& fragment) {
  for (const auto& d : r.diag.items()) {
    if (d.loc.line == line && d.loc.col == col && (d.message + " " + d.path).find(fragment) != std::string::npos) {
      return true;
    }
  }
  return false;
}

const char* kMinimal = R"(inputs:
  - id: in
    type: stdin
outputs:
  - id: out
    type: stdout
)";
}  // namespace

TEST_CASE("the single-pipeline form becomes pipeline main") {
  auto r = load(kMinimal);
  REQUIRE(r.cfg);
  REQUIRE(r.cfg->pipelines.size() == 1);
  CHECK(r.cfg->pipelines[0].id == "main");
  CHECK(r.cfg->pipelines[0].inputs[0].type == "stdin");
}

TEST_CASE("the pipelines form, globals and environment variables") {
  auto r = load(R"(data_dir: ${DATA:-/tmp/d}
log: { level: debug, format: json }
shutdown_timeout: 5s
pipelines:
  a:
    inputs: [{id: in, type: stdin}]
    outputs: [{id: out, type: file, path: "${OUT}/x.log"}]
  b:
    inputs: [{id: in, type: stdin}]
    outputs: [{id: out, type: stdout, when: 'level == "error"'}]
)",
                {{"OUT", "/var/out"}});
  REQUIRE(r.cfg);
  CHECK(r.cfg->data_dir == "/tmp/d");
  CHECK(r.cfg->shutdown_timeout_ns == 5'000'000'000);
  CHECK(r.cfg->log_format == core::log::Format::kJson);
  CHECK(r.cfg->pipelines.size() == 2);
  CHECK(r.cfg->pipelines[1].outputs[0].when.has_value());
}

TEST_CASE("every error is reported at once, located, with did-you-mean") {
  auto r = load(R"(inputs:
  - id: in
    type: stdin
    max_line_byte: 5
outputs:
  - id: out
    typ: stdout
  - id: out
    type: stdot
)");
  CHECK_FALSE(r.cfg);
  CHECK(has_error(r, 4, 5, "did you mean \"max_line_bytes\""));
  CHECK(has_error(r, 6, 5, "missing required key \"type\""));
  CHECK(has_error(r, 7, 5, "did you mean \"type\""));
  CHECK(has_error(r, 8, 9, "duplicate id \"out\""));
  CHECK(has_error(r, 9, 11, "did you mean \"stdout\""));
  CHECK(r.diag.items().size() == 5);
}

TEST_CASE("wrong types, bad conditions and bad templates are located inside the value") {
  auto r = load(R"(shutdown_timeout: soon
inputs:
  - id: in
    type: stdin
    batch_events: many
outputs:
  - id: out
    type: file
    when: 'status >> 5'
    path: "/x/{{a"
)");
  CHECK(has_error(r, 1, 19, "expected a duration"));
  CHECK(has_error(r, 5, 19, "expected an integer"));
  CHECK(has_error(r, 9, 20, "invalid condition"));  // at the second ">"
  CHECK(has_error(r, 10, 15, "unclosed"));          // at "{{"
}

TEST_CASE("a YAML syntax error is located") {
  auto r = load("inputs:\n  - id: in\n    type: [stdin\n");
  REQUIRE_FALSE(r.diag.ok());
  CHECK(r.diag.items()[0].loc.line >= 3);
  CHECK(r.diag.items()[0].message.find("YAML syntax error") == 0);
}

TEST_CASE("a missing environment variable is an error unless it has a default") {
  auto r = load(R"(data_dir: ${NOPE}
inputs: [{id: in, type: stdin}]
outputs: [{id: out, type: stdout}]
)");
  CHECK(has_error(r, 1, 11, "NOPE is not set"));
  CHECK(load(std::string("data_dir: $${literal}\n").append(kMinimal)).cfg->data_dir == "${literal}");
}

TEST_CASE("an input type used as an output is explained") {
  auto r = load(R"(inputs: [{id: in, type: stdin}]
outputs: [{id: out, type: modify}]
)");
  REQUIRE_FALSE(r.diag.ok());
  CHECK(r.diag.items()[0].message.find("is an filter type") == std::string::npos);
  CHECK(r.diag.items()[0].message.find("\"modify\" is a filter type") != std::string::npos);
}

TEST_CASE("drop needs when, and pipelines need inputs and outputs") {
  auto r = load(R"(pipelines:
  p:
    inputs: [{id: in, type: stdin}]
    filters: [{id: d, type: drop}]
  q:
    outputs: [{id: out, type: stdout}]
)");
  CHECK(has_error(r, 4, 15, "needs `when:`"));
  CHECK(has_error(r, 3, 5, "missing required key \"outputs\""));
  CHECK(has_error(r, 6, 5, "missing required key \"inputs\""));
  CHECK(r.diag.items().size() == 3);
}

TEST_CASE("secrets are hidden from validate --explain's settings and the api's keys are checked") {
  config::Diagnostics diag;
  auto cfg = config::load_text("t.yaml",
                               "api: {listen: \"127.0.0.1:0\", token: api-token-1234, public: [/health, /metrics]}\n"
                               "inputs: [{id: i, type: stdin}]\n"
                               "outputs: [{id: o, type: http, url: \"http://h/x\", auth: {bearer: bearer-1234}}]\n",
                               diag);
  INFO(diag.render());
  REQUIRE(cfg);
  REQUIRE(cfg->api_public);
  CHECK(*cfg->api_public == std::vector<std::string>{"/health", "/metrics"});
  bool found = false;
  for (const auto& s : cfg->pipelines[0].outputs[0].settings) {
    if (s.key == "auth.bearer") {
      found = true;
      CHECK(s.value == "(secret)");
    }
  }
  CHECK(found);

  config::Diagnostics bad;
  CHECK_FALSE(config::load_text("t.yaml",
                                "api: {tls: {cert_file: /c.pem}, public: /health}\n"
                                "inputs: [{id: i, type: stdin}]\noutputs: [{id: o, type: stdout}]\n",
                                bad));
  const std::string errors = bad.render();
  CHECK(errors.find("api.tls needs cert_file and key_file") != std::string::npos);
  CHECK(errors.find("expected a list of paths") != std::string::npos);
  CHECK_FALSE(config::load_text("t.yaml",
                                "outputs: [{id: o, type: http, url: \"https://u:pw@h/x\"}]\n"
                                "inputs: [{id: i, type: stdin}]\n",
                                bad));
  CHECK(bad.render().find("credentials in the URL") != std::string::npos);
  CHECK(bad.render().find("u:pw") == std::string::npos);
}
