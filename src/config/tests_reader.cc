#include "config/tests_reader.h"

#include <charconv>

#include "core/json.h"

namespace bifrost::config {

TestKeys read_test_keys(MapReader& r) {
  TestKeys k;
  k.name = r.required_string("name", "what the test shows");
  k.pipeline = r.get("pipeline", "string", "", "the pipeline (default: the only one)");
  k.input = r.get("input", "component id", "", "an input or filter id: where the events enter", true);
  k.events = r.get("events", "list", "", "events: strings (messages) or maps (fields)", true);
  r.section(
      "expect", "at: a filter or output id; events: the fields each must have ([]: none)",
      [&](MapReader& e) {
        k.at = e.get("at", "component id", "", "a filter or output id (an output's when: applies)", true);
        k.expect_events = e.get("events", "list", "", "the fields each event must have, in order ([]: none)", true);
      },
      /*required=*/true);
  return k;
}

namespace {

// A YAML value as JSON text; plain scalars that read as numbers or
// booleans keep that type, quoted ones are strings.
void to_json(const Node& n, std::string& out) {
  if (n.is_null()) {
    out += "null";
  } else if (n.is_map()) {
    out += '{';
    bool first = true;
    for (auto it = n.yaml().begin(); it != n.yaml().end(); ++it) {
      if (!first) out += ',';
      first = false;
      core::append_json_string(out, it->first.Scalar());
      out += ':';
      to_json(n.child(it->first.Scalar(), it->second), out);
    }
    out += '}';
  } else if (n.is_sequence()) {
    out += '[';
    for (std::size_t i = 0; i < n.yaml().size(); ++i) {
      if (i) out += ',';
      to_json(n.element(i), out);
    }
    out += ']';
  } else {
    auto s = n.scalar();
    if (!s) return;
    bool quoted = n.yaml().Tag() != "?";  // yaml-cpp tags a plain scalar "?", a quoted one "!"
    std::int64_t i;
    double d;
    auto ri = std::from_chars(s->data(), s->data() + s->size(), i);
    auto rd = std::from_chars(s->data(), s->data() + s->size(), d);
    if (!quoted && (*s == "true" || *s == "false" || *s == "null")) out += *s;
    else if (!quoted && !s->empty() && ri.ec == std::errc() && ri.ptr == s->data() + s->size()) out += *s;
    else if (!quoted && !s->empty() && rd.ec == std::errc() && rd.ptr == s->data() + s->size())
      core::append_json_value(out, core::Value::number(d));
    else core::append_json_string(out, *s);
  }
}

// Events of a test: strings are messages, maps are events.
std::vector<std::string> test_events(const Node& list, bool is_expect) {
  std::vector<std::string> out;
  if (!list.is_sequence()) {
    list.error("expected a list of events (strings or maps), got " + list.kind_name());
    return out;
  }
  for (std::size_t i = 0; i < list.yaml().size(); ++i) {
    Node e = list.element(i);
    std::string json;
    if (e.is_scalar()) {
      auto s = e.scalar();
      if (!s) continue;
      json = "{\"message\":";
      core::append_json_string(json, *s);
      json += '}';
    } else if (e.is_map()) {
      to_json(e, json);
    } else {
      e.error(std::string("expected ") + (is_expect ? "the fields of an event" : "an event") +
              " (a string or a map), got " + e.kind_name());
      continue;
    }
    out.push_back(std::move(json));
  }
  return out;
}

}  // namespace

void read_tests(const Node& list, Config& cfg) {
  if (!list.is_sequence()) {
    list.error("expected a list of tests, got " + list.kind_name());
    return;
  }
  for (std::size_t i = 0; i < list.yaml().size(); ++i) {
    Node item = list.element(i);
    MapReader r(item);
    TestCase t;
    t.location = item.location();
    TestKeys k = read_test_keys(r);
    r.finish();
    if (!item.is_map()) continue;
    t.name = k.name.value_or("");
    const PipelineConfig* p = nullptr;
    if (k.pipeline) {
      if (auto id = k.pipeline->scalar()) {
        for (const auto& pc : cfg.pipelines) {
          if (pc.id == *id) p = &pc;
        }
        if (!p) k.pipeline->error("no pipeline \"" + *id + "\"");
      }
    } else if (cfg.pipelines.size() == 1) {
      p = &cfg.pipelines[0];
    } else if (!cfg.pipelines.empty()) {
      item.error("give `pipeline:`: the config has " + std::to_string(cfg.pipelines.size()) + " pipelines");
    }
    if (p) t.pipeline = p->id;
    auto index_of = [](const auto& list, const std::string& id) -> int {
      for (std::size_t k = 0; k < list.size(); ++k) {
        if (list[k].id == id) return static_cast<int>(k);
      }
      return -1;
    };
    int in_filter = -1;
    if (k.input && p) {
      if (auto id = k.input->scalar()) {
        t.input = *id;
        if (index_of(p->inputs, *id) >= 0) in_filter = 0;
        else if ((in_filter = index_of(p->filters, *id)) < 0) {
          k.input->error("no input or filter \"" + *id + "\" in pipeline \"" + p->id + "\"");
        }
      }
    }
    if (k.events) t.events = test_events(*k.events, false);
    if (k.at && p) {
      if (auto id = k.at->scalar()) {
        t.at = *id;
        int f = index_of(p->filters, *id);
        if (f < 0 && index_of(p->outputs, *id) < 0) {
          k.at->error("no filter or output \"" + *id + "\" in pipeline \"" + p->id + "\"");
        } else if (f >= 0 && in_filter > f) {
          k.at->error("\"" + *id + "\" comes before \"" + t.input + "\": its events never pass it");
        }
      }
    }
    if (k.expect_events) t.expect = test_events(*k.expect_events, true);
    cfg.tests.push_back(std::move(t));
  }
}

}  // namespace bifrost::config
