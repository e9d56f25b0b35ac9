// `tests:` of a config, run by `bifrost test`: events that enter a pipeline
// at an input or filter, and the fields expected where they leave a filter
// or an output.
#pragma once

#include <optional>
#include <string>

#include "config/model.h"
#include "config/reader.h"

namespace bifrost::config {

struct TestKeys {
  std::optional<std::string> name;
  std::optional<Node> pipeline, input, events;
  std::optional<Node> at, expect_events;  // expect.at, expect.events
};

// The keys of one test; run over nothing, it describes them (bifrost schema).
TestKeys read_test_keys(MapReader& r);

// Reads `tests:` against the pipelines of `cfg`, once every file is read.
void read_tests(const Node& list, Config& cfg);

}  // namespace bifrost::config
