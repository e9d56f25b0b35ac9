// The typed configuration: what `bifrost validate` checks and `bifrost run`
// builds pipelines from. Produced by load(); no file other than the config
// itself is opened and no socket is touched while loading.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.h"
#include "config/node.h"
#include "config/reader.h"
#include "core/log.h"
#include "delivery/options.h"
#include "expr/condition.h"
#include "pipeline/component.h"

namespace bifrost::config {

template <class Spec>
struct ComponentConfig {
  std::string id;
  std::string type;
  Location location;
  std::optional<expr::Condition> when;
  delivery::DeliveryOptions delivery;  // outputs only: retry, failed_queue, buffer
  std::unique_ptr<Spec> spec;
  std::vector<Setting> settings;  // every option, given or default (validate --explain)
  // filters only: a stateful stage (aggregate, dedupe, throttle); then spec is null.
  std::unique_ptr<pipeline::StatefulStageSpec> stage;
};

using InputConfig = ComponentConfig<pipeline::InputSpec>;
using FilterConfig = ComponentConfig<pipeline::FilterSpec>;
using OutputConfig = ComponentConfig<pipeline::OutputSpec>;

struct PipelineConfig {
  std::string id;
  Location location;
  std::vector<InputConfig> inputs;
  std::vector<FilterConfig> filters;
  std::vector<OutputConfig> outputs;
};

// A unit test written in the config (`tests:`), run by `bifrost test`.
struct TestCase {
  std::string name;
  Location location;
  std::string pipeline;             // resolved: the only one when not given
  std::string input;                // an input or filter id: where the events enter
  std::vector<std::string> events;  // each a JSON object (a string event is {"message": ...})
  std::string at;                   // a filter or output id: whose events are checked
  std::vector<std::string> expect;  // each a JSON object: fields the event must have
};

struct Config {
  std::string data_dir = "/var/lib/bifrost";
  std::string api_listen = "127.0.0.1:9598";
  std::string api_token;                            // empty: no authentication
  std::string api_token_file;                       // read at start, not while validating
  std::string api_tls_cert_file, api_tls_key_file;  // both or neither: HTTPS
  // Paths served without the token; unset: /health and /ready (see api/server.h).
  std::optional<std::vector<std::string>> api_public;
  std::int64_t log_rate_limit_ns = 10'000'000'000;
  core::log::Level log_level = core::log::Level::kInfo;
  core::log::Format log_format = core::log::Format::kText;
  std::int64_t shutdown_timeout_ns = 30'000'000'000;
  std::vector<PipelineConfig> pipelines;
  std::vector<TestCase> tests;
  // Every file a component or the API reads at start (checked then, with
  // its location: loading opens none).
  std::vector<FileRef> files;
};

// Loads PATH (a file, or a directory whose *.yaml files are merged in name
// order). Returns nothing when there is any error; every error is in `diag`.
std::unique_ptr<Config> load(const std::string& path, Diagnostics& diag, const EnvLookup& env = process_env());

// Parses config text (for tests and for files already read).
std::unique_ptr<Config> load_text(const std::string& file_name, const std::string& text, Diagnostics& diag,
                                  const EnvLookup& env = process_env());

}  // namespace bifrost::config
