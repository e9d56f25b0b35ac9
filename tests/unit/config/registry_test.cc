#include <doctest.h>

#include <set>

#include "config/registry.h"

using namespace bifrost;

namespace {
// The options a type describes, as `bifrost describe TYPE` lists them.
template <class Spec>
std::vector<std::string> described_keys(const config::ComponentType<Spec>& t) {
  config::Diagnostics diag;
  config::Context ctx{&diag, config::process_env()};
  config::Node empty(YAML::Node(), nullptr, "", &ctx);
  std::vector<config::OptionDoc> docs;
  config::MapReader r(empty, &docs);
  t.parse(r);
  std::vector<std::string> keys;
  for (const auto& d : docs) keys.push_back(d.key);
  return keys;
}

template <class Spec>
void each_key_once(const std::vector<config::ComponentType<Spec>>& types) {
  for (const auto& t : types) {
    auto keys = described_keys(t);
    std::set<std::string> seen;
    for (const auto& k : keys) CHECK_MESSAGE(seen.insert(k).second, t.name << ": key " << k << " read twice");
  }
}
}  // namespace

TEST_CASE("every component type reads each of its keys once, so describe lists each once") {
  const auto& reg = config::components();
  each_key_once(reg.inputs());
  each_key_once(reg.filters());
  each_key_once(reg.outputs());
}

TEST_CASE("the declared metric families are named once each, bifrost_ first, and say what they are") {
  std::set<std::string> names;
  for (const core::MetricFamily* f : config::declared_metric_families(config::components())) {
    CHECK(std::string(f->name).starts_with("bifrost_"));
    CHECK(names.insert(f->name).second);
    CHECK(std::string(f->help).size() > 10);
    CHECK((f->type != core::MetricType::kCounter || std::string(f->name).ends_with("_total")));
  }
  CHECK(names.count("bifrost_file_lag_bytes"));
  CHECK(names.count("bifrost_kafka_consumer_lag"));
  CHECK(names.count("bifrost_kafka_broker_rtt_seconds"));
}
