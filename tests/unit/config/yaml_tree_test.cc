// Duplicate keys, anchors, aliases and merge keys in a config (config/yaml_tree.h).
#include <doctest.h>

#include <fstream>

#include "config/model.h"
#include "support/temp_dir.h"

using namespace bifrost;

namespace {

struct Loaded {
  std::unique_ptr<config::Config> cfg;
  config::Diagnostics diag;
};

Loaded load(const std::string& text) {
  Loaded r;
  r.cfg = config::load_text("t.yaml", text, r.diag, [](const std::string&) { return std::nullopt; });
  return r;
}

// The rendered errors, one per line, as `bifrost validate` prints them.
std::string errors(const Loaded& r) { return r.diag.render(); }

}  // namespace

TEST_CASE("a key given twice is an error with both places, at every depth") {
  auto r = load(R"(inputs:
  - id: in
    type: stdin
outputs:
  - id: es
    type: file
    path: /tmp/x
    id: auto
    encoding: json
    retry: {max_attempts: 3, max_attempts: 4}
)");
  CHECK_FALSE(r.cfg);
  CHECK(errors(r) ==
        "t.yaml:8:5: outputs[0].id: key \"id\" given twice (first at 5:5)\n"
        "t.yaml:10:30: outputs[0].retry.max_attempts: key \"max_attempts\" given twice (first at 10:13)\n");
}

TEST_CASE("a key given twice at the top and in pipelines is reported once, not also as a duplicate pipeline") {
  auto r = load(R"(data_dir: /a
pipelines:
  p:
    inputs: [{id: in, type: stdin}]
    outputs: [{id: out, type: stdout}]
  p:
    inputs: [{id: in, type: stdin}]
    outputs: [{id: out, type: stdout}]
data_dir: /b
)");
  CHECK(errors(r) ==
        "t.yaml:6:3: pipelines.p: key \"p\" given twice (first at 3:3)\n"
        "t.yaml:9:1: data_dir: key \"data_dir\" given twice (first at 1:1)\n");
}

TEST_CASE("merge keys share settings; keys written in the map win, then the earlier merged map") {
  auto r = load(R"(x-retry: &retry {max_attempts: 7, initial_backoff: 1s}
x-buffer: &buffer
  buffer: {type: disk, max_bytes: 1MiB}
  retry: {max_attempts: 1}
x-file: &file
  type: file
  encoding: text
inputs: [{id: in, type: stdin}]
outputs:
  - id: a
    <<: [*file, *buffer]
    path: /tmp/a
    retry: *retry
  - id: b
    <<: *file
    path: /tmp/b
    encoding: json
    retry:
      <<: *retry
      max_attempts: 2
)");
  REQUIRE_MESSAGE(r.cfg, errors(r));
  const auto& outs = r.cfg->pipelines[0].outputs;
  REQUIRE(outs.size() == 2);
  CHECK(outs[0].type == "file");
  CHECK(outs[0].delivery.buffer.disk);
  CHECK(outs[0].delivery.buffer.max_bytes == 1u << 20);
  CHECK(outs[0].delivery.retry.max_attempts == 7);  // written in the map: wins over *buffer's
  CHECK(outs[0].delivery.retry.initial_backoff_ns == 1'000'000'000);
  CHECK(outs[1].type == "file");
  CHECK_FALSE(outs[1].delivery.buffer.disk);
  CHECK(outs[1].delivery.retry.max_attempts == 2);
  CHECK(outs[1].delivery.retry.initial_backoff_ns == 1'000'000'000);
}

// (yaml-cpp places an anchored node at its anchor: `&name value` is at `&`.)
TEST_CASE("an error inside an anchored block points where it is written and names the alias") {
  auto r = load(R"(x-defaults: &defaults
  type: file
  encoding: xml
  retry: {max_attempts: lots}
inputs: [{id: in, type: stdin}]
outputs:
  - id: a
    path: /tmp/a
    <<: *defaults
  - id: b
    type: stdout
    retry: &r {max_backof: 1s}
  - id: c
    type: stdout
    retry: *r
)");
  CHECK_FALSE(r.cfg);
  CHECK(errors(r) ==
        "t.yaml:3:13: outputs[0].encoding: \"xml\" is not one of json | text (through *defaults at 9:9)\n"
        "t.yaml:4:25: outputs[0].retry.max_attempts: expected an integer, got \"lots\" (through *defaults at 9:9)\n"
        "t.yaml:12:16: outputs[1].retry.max_backof: unknown key \"max_backof\"; did you mean \"max_backoff\"?\n"
        "t.yaml:12:16: outputs[2].retry.max_backof: unknown key \"max_backof\"; did you mean \"max_backoff\"? "
        "(through *r at 15:12)\n");
}

TEST_CASE("aliases through aliases are all named, outermost first") {
  auto r = load(R"(x-inner: &inner {max_attempts: x}
x-outer: &outer
  type: stdout
  retry: *inner
inputs: [{id: in, type: stdin}]
outputs:
  - <<: *outer
    id: o
)");
  CHECK(errors(r) ==
        "t.yaml:1:32: outputs[0].retry.max_attempts: expected an integer, got \"x\" "
        "(through *outer at 7:9, *inner at 4:10)\n");
}

TEST_CASE("top-level keys starting with x- are ignored; other unknown keys are not") {
  auto r = load(R"(x-anything: {whatever: [1, 2]}
y-not: 1
inputs: [{id: in, type: stdin}]
outputs: [{id: out, type: stdout}]
)");
  CHECK(errors(r) == "t.yaml:2:1: y-not: unknown key \"y-not\"\n");
}

TEST_CASE("a merge of something that is not a map is an error") {
  auto r = load(R"(x-name: &name stdout
inputs: [{id: in, type: stdin}]
outputs:
  - id: out
    type: stdout
    <<: *name
  - id: out2
    type: stdout
    <<: [{encoding: json}, 3]
)");
  CHECK(errors(r) ==
        "t.yaml:1:9: outputs[0].<<: \"<<\" merges a map (<<: *name) or a list of maps (<<: [*a, *b]), got "
        "\"stdout\" (through *name at 6:9)\n"
        "t.yaml:9:28: outputs[1].<<[1]: \"<<\" merges a map (<<: *name) or a list of maps (<<: [*a, *b]), got "
        "\"3\"\n");
}

TEST_CASE("a quoted \"<<\" is an ordinary key") {
  auto r = load("inputs: [{id: in, type: stdin}]\noutputs: [{id: out, type: stdout, \"<<\": {encoding: json}}]\n");
  CHECK(errors(r).find("unknown key \"<<\"") != std::string::npos);
}

TEST_CASE("an alias inside the block it names is refused, not followed forever") {
  auto r = load("x-a: &a {b: *a}\ninputs: [{id: in, type: stdin}]\noutputs: [{id: out, type: stdout}]\n");
  CHECK(errors(r) == "t.yaml:1:13: x-a.b: alias *a is used inside the block it names (at 1:6): that would be a loop\n");
}

TEST_CASE("aliases that expand a config past a million nodes are refused") {
  std::string text = "x-0: &l0 [a, a, a, a, a, a, a, a, a, a]\n";
  for (int i = 1; i < 9; ++i) {
    text += "x-" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) text += (k ? ", *l" : "*l") + std::to_string(i - 1);
    text += "]\n";
  }
  auto r = load(text + "inputs: [{id: in, type: stdin}]\noutputs: [{id: out, type: stdout}]\n");
  REQUIRE_FALSE(r.cfg);
  CHECK(errors(r).find("aliases expand this config past 1000000 nodes") != std::string::npos);
}

TEST_CASE("text on which yaml-cpp's parser stops moving ends with an error, not a hang") {
  // A lone "," makes yaml-cpp 0.7 announce one more document for ever (fuzz_config).
  for (const char* text : {",", ",\r\n", ", \r\n", ",\r\x91``x: 1\n"}) {
    auto r = load(text);
    CHECK_FALSE(r.cfg);
    CHECK_FALSE(errors(r).empty());
  }
}

TEST_CASE("a second YAML document is an error, not silently ignored") {
  auto r = load("inputs: [{id: in, type: stdin}]\noutputs: [{id: out, type: stdout}]\n---\ndata_dir: /x\n");
  CHECK(errors(r).find("t.yaml:3:1: a second YAML document") == 0);
  CHECK(load("inputs: [{id: in, type: stdin}]\noutputs: [{id: out, type: stdout}]\n---\n").cfg);
}

TEST_CASE("across the files of a directory, a global key or a pipeline given twice names both places") {
  testing::TempDir dir;
  const std::string body =
      "pipelines:\n  p:\n    inputs: [{id: in, type: stdin}]\n    outputs: [{id: o, type: stdout}]\n";
  std::ofstream(dir / "1.yaml") << "log: {level: warn}\n" << body;
  std::ofstream(dir / "2.yaml") << "log: {level: info}\n" << body;
  config::Diagnostics diag;
  CHECK_FALSE(config::load(dir.path(), diag));
  CHECK(diag.render() == dir / "2.yaml:1:6: log: key \"log\" given twice (first at " + dir / "1.yaml:1:6" +
                             "): a global key goes in one file of the directory\n" + dir / "2.yaml:3:3: pipelines.p: " +
                             "pipeline \"p\" given twice (first at " + dir / "1.yaml:3:3)\n");
}

TEST_CASE("an error inside an anchored scalar is located inside it, past the anchor") {
  auto r = load(R"(inputs: [{id: in, type: stdin}]
outputs:
  - id: a
    type: stdout
    when: &w 'status >> 5'
  - id: b
    type: stdout
    when: *w
)");
  CHECK(
      errors(r) ==
      "t.yaml:5:23: outputs[0].when: invalid condition: expected a field or a value, got \">\"\n"
      "t.yaml:5:23: outputs[1].when: invalid condition: expected a field or a value, got \">\" (through *w at 8:11)\n");
}
