#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "config/expr_reader.h"
#include "config/model.h"
#include "config/registry.h"
#include "core/json.h"
#include "core/strings.h"

#include <charconv>

namespace bifrost::config {

namespace {

namespace fs = std::filesystem;

std::string where(const Location& l) { return l.file + ":" + std::to_string(l.line) + ":" + std::to_string(l.col); }

bool valid_id(const std::string& id) {
  if (id.empty()) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

template <class Spec>
std::vector<std::string> type_names(const std::vector<ComponentType<Spec>>& types) {
  std::vector<std::string> names;
  for (const auto& t : types) names.push_back(t.name);
  return names;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

class Loader {
 public:
  Loader(Diagnostics& diag, const EnvLookup& env) : ctx_{&diag, env}, cfg_(std::make_unique<Config>()) {}

  void parse_file(std::shared_ptr<const Source> src, bool single_file) {
    YAML::Node root;
    try {
      root = YAML::Load(src->text);
    } catch (const YAML::ParserException& e) {
      Location loc{src->file, e.mark.line + 1, e.mark.column + 1};
      if (e.mark.line < 0) loc.line = loc.col = 0;
      ctx_.diag->error(loc, "", "YAML syntax error: " + e.msg);
      return;
    } catch (const YAML::Exception& e) {
      ctx_.diag->error(Location{src->file, 0, 0}, "", std::string("YAML error: ") + e.what());
      return;
    }
    Node top(root, src, "", &ctx_);
    if (top.is_null()) {
      if (single_file)
        ctx_.diag->error(Location{src->file, 1, 1}, "", "the config is empty; it needs at least one pipeline");
      return;
    }
    if (!top.is_map()) {
      top.error("expected a map at the top of the config, got " + top.kind_name());
      return;
    }
    MapReader r(top);
    global(
        r, "data_dir",
        [&](const Node& n) {
          if (auto s = n.scalar()) {
            if (s->empty()) n.error("must not be empty");
            cfg_->data_dir = *s;
          }
        },
        "directory for checkpoints/, failed/ and buffers/", "\"/var/lib/bifrost\"");
    global(
        r, "api", [&](const Node& n) { parse_api(n); }, "the HTTP API (metrics, health)", "");
    global(
        r, "log", [&](const Node& n) { parse_log(n); }, "bifrost's own log on stderr", "");
    global(
        r, "shutdown_timeout",
        [&](const Node& n) {
          if (auto d = parse_duration(n)) cfg_->shutdown_timeout_ns = *d;
        },
        "how long a stop may take to deliver what is in flight", "30s");

    auto pipelines = r.get("pipelines", "map", "", "pipelines by id");
    auto inputs = r.get("inputs", "list", "", "inputs of the single pipeline `main`");
    auto filters = r.get("filters", "list", "", "filters of the single pipeline `main`");
    auto outputs = r.get("outputs", "list", "", "outputs of the single pipeline `main`");
    auto tests = r.get("tests", "list", "", "unit tests of the pipelines, run by `bifrost test`");
    r.finish();
    if (tests) pending_tests_.push_back(*tests);

    bool top_form = inputs || filters || outputs;
    if (pipelines && top_form) {
      (inputs    ? *inputs
       : filters ? *filters
                 : *outputs)
          .error("use either `pipelines:` or top-level inputs/filters/outputs (pipeline `main`), not both");
      return;
    }
    if (top_form) {
      if (!single_file) {
        (inputs    ? *inputs
         : filters ? *filters
                   : *outputs)
            .error("top-level inputs/filters/outputs are for a single config file; in a directory, use `pipelines:`");
        return;
      }
      add_pipeline("main", top, inputs, filters, outputs);
    } else if (pipelines) {
      if (!pipelines->is_map()) {
        pipelines->error("expected a map of pipelines by id, got " + pipelines->kind_name());
        return;
      }
      for (auto it = pipelines->yaml().begin(); it != pipelines->yaml().end(); ++it) {
        std::string id = it->first.Scalar();
        Node key(it->first, src, "pipelines." + id, &ctx_);
        Node body = pipelines->child(id, it->second);
        MapReader p(body);
        auto pin = p.get("inputs", "list", "", "where events come from", true);
        auto pfi = p.get("filters", "list", "", "stages each event goes through, in order");
        auto pout = p.get("outputs", "list", "", "where events go", true);
        p.finish();
        if (!body.is_map()) continue;
        if (!valid_id(id)) {
          key.error("pipeline id \"" + id + "\" may only hold letters, digits, _ and -");
          continue;
        }
        if (auto seen = pipeline_seen_.find(id); seen != pipeline_seen_.end()) {
          key.error("duplicate pipeline id \"" + id + "\" (first defined at " + where(seen->second) + ")");
          continue;
        }
        pipeline_seen_[id] = key.location();
        add_pipeline(id, key, pin, pfi, pout);
      }
    } else if (single_file) {
      top.error("no pipeline: add `pipelines:`, or `inputs:` and `outputs:` at the top level");
    }
  }

  std::unique_ptr<Config> finish(bool any_file) {
    // Tests refer to pipelines of any file: read them once all are known.
    for (const Node& t : pending_tests_) parse_tests(t);
    if (ctx_.diag->ok() && any_file && cfg_->pipelines.empty()) {
      ctx_.diag->error(Location{"<config>", 0, 0}, "", "no pipeline defined in any file");
    }
    if (!ctx_.diag->ok()) return nullptr;
    return std::move(cfg_);
  }

  Context ctx_;

 private:
  template <class F>
  void global(MapReader& r, const std::string& key, F&& parse, const std::string& doc, const std::string& def) {
    auto n = r.get(key, "", def, doc);
    if (!n) return;
    if (auto seen = globals_seen_.find(key); seen != globals_seen_.end()) {
      n->error("\"" + key + "\" is already set at " + where(seen->second) + "; global keys may be set once");
      return;
    }
    globals_seen_[key] = n->location();
    parse(*n);
  }

  void parse_api(const Node& n) {
    MapReader r(n);
    auto listen = r.get("listen", "string", "\"127.0.0.1:9598\"", "address of the HTTP API, or \"off\"");
    cfg_->api_token = r.string("token", "", "when set, /metrics and /tap require Authorization: Bearer TOKEN");
    cfg_->api_token_file = r.string("token_file", "", "file holding the token (read at start)");
    if (!cfg_->api_token.empty() && !cfg_->api_token_file.empty()) n.error("set token or token_file, not both");
    r.finish();
    if (!listen) return;
    auto s = listen->scalar();
    if (!s) return;
    if (*s != "off") {
      auto colon = s->rfind(':');
      bool ok = colon != std::string::npos && colon + 1 < s->size();
      for (std::size_t i = colon + 1; ok && i < s->size(); ++i) ok = std::isdigit(static_cast<unsigned char>((*s)[i]));
      if (ok) {
        long port = std::stol(s->substr(colon + 1));
        ok = port >= 0 && port <= 65535;
      }
      if (!ok) {
        listen->error("expected HOST:PORT (such as 127.0.0.1:9598) or \"off\", got \"" + *s + "\"");
        return;
      }
    }
    cfg_->api_listen = *s;
  }

  void parse_log(const Node& n) {
    MapReader r(n);
    std::string level = r.choice("level", "info", {"debug", "info", "warn", "error"}, "lowest level logged");
    std::string format = r.choice("format", "text", {"text", "json"}, "text, or one JSON object per line");
    cfg_->log_rate_limit_ns =
        r.duration_ns("rate_limit", cfg_->log_rate_limit_ns,
                      "a repeated warning or error is logged once per interval, with a count; 0 logs all");
    r.finish();
    using core::log::Level;
    cfg_->log_level = level == "debug"   ? Level::kDebug
                      : level == "warn"  ? Level::kWarn
                      : level == "error" ? Level::kError
                                         : Level::kInfo;
    cfg_->log_format = format == "json" ? core::log::Format::kJson : core::log::Format::kText;
  }

  void add_pipeline(const std::string& id, const Node& at, const std::optional<Node>& inputs,
                    const std::optional<Node>& filters, const std::optional<Node>& outputs) {
    PipelineConfig p;
    p.id = id;
    p.location = at.location();
    std::map<std::string, Location> ids;
    if (inputs) parse_list(*inputs, "input", components().inputs(), ids, p.inputs, false);
    if (filters) parse_list(*filters, "filter", components().filters(), ids, p.filters, true, &components().stages());
    if (outputs) parse_list(*outputs, "output", components().outputs(), ids, p.outputs, true);
    // (In the `pipelines:` form the reader already reported missing keys.)
    bool top_form = id == "main" && at.path().empty();
    auto require = [&](const std::optional<Node>& list, const char* key, const char* what) {
      if (!list) {
        if (top_form) at.error("pipeline \"" + id + "\" has no `" + key + ":`");
      } else if (list->is_sequence() && list->yaml().size() == 0) {
        list->error(std::string("needs at least one ") + what);
      }
    };
    require(inputs, "inputs", "input");
    require(outputs, "outputs", "output");
    cfg_->pipelines.push_back(std::move(p));
  }

  std::string other_kind(const std::string& type, const std::string& kind) {
    auto has = [&](const std::vector<std::string>& names) {
      return std::find(names.begin(), names.end(), type) != names.end();
    };
    if (kind != "input" && has(type_names(components().inputs()))) return "input";
    if (kind != "filter" && (has(type_names(components().filters())) || has(type_names(components().stages()))))
      return "filter";
    if (kind != "output" && has(type_names(components().outputs()))) return "output";
    return "";
  }

  // The delivery keys every output has (DESIGN.md, "Delivery").
  static delivery::DeliveryOptions read_delivery(MapReader& r) {
    delivery::DeliveryOptions d;
    auto read_map = [&](const char* key, const char* text) -> std::optional<Node> {
      auto n = r.get(key, "map", "", text);
      if (!n || r.describing()) return std::nullopt;
      if (!n->is_map()) {
        n->error(std::string("expected a map, got ") + n->kind_name());
        return std::nullopt;
      }
      return n;
    };
    if (auto n = read_map("retry",
                          "{max_attempts: 0 (no limit), initial_backoff: 100ms, max_backoff: 30s}: "
                          "transient failures, exponential backoff with full jitter")) {
      MapReader m(*n);
      d.retry.max_attempts = m.integer("max_attempts", d.retry.max_attempts, 0, 1 << 30,
                                       "attempts before the events go to the failed queue; 0: no limit");
      d.retry.initial_backoff_ns = m.duration_ns("initial_backoff", d.retry.initial_backoff_ns, "first wait");
      d.retry.max_backoff_ns = m.duration_ns("max_backoff", d.retry.max_backoff_ns, "longest wait");
      d.retry.breaker_after = m.integer("circuit_breaker_after", d.retry.breaker_after, 0, 1 << 30,
                                        "failed attempts in a row after which the sink counts as down: attempts "
                                        "become probes that do not use up max_attempts; 0: off");
      if (d.retry.initial_backoff_ns <= 0) n->error("initial_backoff must be above 0");
      if (d.retry.max_backoff_ns < d.retry.initial_backoff_ns) n->error("max_backoff must be at least initial_backoff");
      m.finish();
    }
    if (auto n = read_map("failed_queue",
                          "{max_bytes: 1GiB, when_full: block | drop_oldest}: where rejected "
                          "events and exhausted retries are kept (data_dir/failed/)")) {
      MapReader m(*n);
      d.failed_queue.max_bytes = m.bytes("max_bytes", d.failed_queue.max_bytes, "bytes on disk at most");
      d.failed_queue.drop_oldest = m.choice("when_full", "block", {"block", "drop_oldest"},
                                            "wait for space, or drop the oldest (counted)") == "drop_oldest";
      if (d.failed_queue.max_bytes < 4096) n->error("failed_queue.max_bytes must be at least 4096");
      m.finish();
    }
    if (auto n = read_map("buffer",
                          "{type: memory | disk, max_bytes: 1GiB, when_full: block | drop_newest}: "
                          "where events wait for the sink (disk: data_dir/buffers/, survives restarts)")) {
      MapReader m(*n);
      d.buffer.disk =
          m.choice("type", "memory", {"memory", "disk"}, "memory: the output's queue; disk: durable") == "disk";
      d.buffer.max_bytes = m.bytes("max_bytes", d.buffer.max_bytes, "disk bytes at most");
      d.buffer.drop_newest = m.choice("when_full", "block", {"block", "drop_newest"},
                                      "hold the pipeline, or drop what arrives (counted)") == "drop_newest";
      if (d.buffer.max_bytes < 65536) n->error("buffer.max_bytes must be at least 64KiB");
      m.finish();
    }
    return d;
  }

  template <class Spec>
  void parse_list(const Node& list, const std::string& kind, const std::vector<ComponentType<Spec>>& types,
                  std::map<std::string, Location>& ids, std::vector<ComponentConfig<Spec>>& out, bool has_when,
                  const std::vector<ComponentType<pipeline::StatefulStageSpec>>* stages = nullptr) {
    if (!list.is_sequence()) {
      list.error("expected a list of " + kind + "s, got " + list.kind_name());
      return;
    }
    for (std::size_t i = 0; i < list.yaml().size(); ++i) {
      Node item = list.element(i);
      if (!item.is_map()) {
        item.error("expected a map with `id` and `type`, got " + item.kind_name());
        continue;
      }
      MapReader r(item);
      ComponentConfig<Spec> c;
      c.location = item.location();
      auto id_node = r.get("id", "string", "", "unique name of the component within its pipeline", true);
      auto type_node = r.get("type", "string", "", "the kind of " + kind, true);
      if (id_node) {
        if (auto id = id_node->scalar()) {
          c.id = *id;
          if (!valid_id(c.id)) {
            id_node->error("id \"" + c.id + "\" may only hold letters, digits, _ and -");
          } else if (auto seen = ids.find(c.id); seen != ids.end()) {
            id_node->error("duplicate id \"" + c.id + "\" (first used at " + where(seen->second) + ")");
          } else {
            ids[c.id] = id_node->location();
          }
        }
      }
      const ComponentType<Spec>* type = nullptr;
      const ComponentType<pipeline::StatefulStageSpec>* stage = nullptr;  // in `filters:`, a stateful stage
      if (type_node) {
        if (auto t = type_node->scalar()) {
          c.type = *t;
          for (const auto& ct : types) {
            if (ct.name == c.type) type = &ct;
          }
          for (std::size_t k = 0; stages && !type && k < stages->size(); ++k) {
            if ((*stages)[k].name == c.type) stage = &(*stages)[k];
          }
          if (!type && !stage) {
            std::vector<std::string> names = type_names(types);
            if (stages) {
              for (const auto& n : type_names(*stages)) names.push_back(n);
            }
            std::string msg = "unknown " + kind + " type \"" + c.type + "\"";
            if (std::string guess = core::closest(c.type, names); !guess.empty()) {
              msg += "; did you mean \"" + guess + "\"?";
            } else if (std::string other = other_kind(c.type, kind); !other.empty()) {
              msg += "; \"" + c.type + "\" is " + (other == "filter" ? "a " : "an ") + other + " type";
            }
            msg += " (" + kind + " types: " + join(names) + ")";
            type_node->error(msg);
          }
        }
      }
      if (has_when) {
        c.when = read_condition(r, "when",
                                kind == "output" ? "only events for which this holds go to this output"
                                                 : "apply this stage only to events for which this holds");
        if (type && type->requires_when && !c.when && !r.node().yaml()["when"].IsDefined()) {
          item.error("a " + c.type + " filter needs `when:` (the events to drop)");
        }
      }
      if (kind == "output") c.delivery = read_delivery(r);
      if (!type && !stage) {  // its own keys are unknown: only flag near-misses of the common ones
        r.finish_near_misses();
        continue;
      }
      if (type) {
        c.spec = type->parse(r);
      } else {
        c.stage = stage->parse(r);
      }
      r.finish();
      out.push_back(std::move(c));
    }
  }

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
      auto pos = n.yaml().Mark().pos;
      bool quoted = n.source() && pos >= 0 && static_cast<std::size_t>(pos) < n.source()->text.size() &&
                    (n.source()->text[static_cast<std::size_t>(pos)] == '"' ||
                     n.source()->text[static_cast<std::size_t>(pos)] == '\'');
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

  void parse_tests(const Node& list) {
    if (!list.is_sequence()) {
      list.error("expected a list of tests, got " + list.kind_name());
      return;
    }
    for (std::size_t i = 0; i < list.yaml().size(); ++i) {
      Node item = list.element(i);
      MapReader r(item);
      TestCase t;
      t.location = item.location();
      auto name = r.required_string("name", "what the test shows");
      auto pipeline = r.get("pipeline", "string", "", "the pipeline (default: the only one)");
      auto input = r.get("input", "component id", "", "an input or filter id: where the events enter", true);
      auto events = r.get("events", "list", "", "events: strings (messages) or maps (fields)", true);
      auto expect =
          r.get("expect", "map", "", "at: a filter or output id; events: the fields each must have ([]: none)", true);
      r.finish();
      if (!item.is_map()) continue;
      t.name = name.value_or("");
      const PipelineConfig* p = nullptr;
      if (pipeline) {
        if (auto id = pipeline->scalar()) {
          for (const auto& pc : cfg_->pipelines) {
            if (pc.id == *id) p = &pc;
          }
          if (!p) pipeline->error("no pipeline \"" + *id + "\"");
        }
      } else if (cfg_->pipelines.size() == 1) {
        p = &cfg_->pipelines[0];
      } else if (!cfg_->pipelines.empty()) {
        item.error("give `pipeline:`: the config has " + std::to_string(cfg_->pipelines.size()) + " pipelines");
      }
      if (p) t.pipeline = p->id;
      auto index_of = [](const auto& list, const std::string& id) -> int {
        for (std::size_t k = 0; k < list.size(); ++k) {
          if (list[k].id == id) return static_cast<int>(k);
        }
        return -1;
      };
      int in_filter = -1;
      if (input && p) {
        if (auto id = input->scalar()) {
          t.input = *id;
          if (index_of(p->inputs, *id) >= 0) in_filter = 0;
          else if ((in_filter = index_of(p->filters, *id)) < 0) {
            input->error("no input or filter \"" + *id + "\" in pipeline \"" + p->id + "\"");
          }
        }
      }
      if (events) t.events = test_events(*events, false);
      if (expect) {
        MapReader er(*expect);
        auto at = er.get("at", "component id", "", "a filter or output id", true);
        auto evs = er.get("events", "list", "", "the fields each event must have, in order", true);
        er.finish();
        if (at && p) {
          if (auto id = at->scalar()) {
            t.at = *id;
            int f = index_of(p->filters, *id);
            if (f < 0 && index_of(p->outputs, *id) < 0) {
              at->error("no filter or output \"" + *id + "\" in pipeline \"" + p->id + "\"");
            } else if (f >= 0 && in_filter > f) {
              at->error("\"" + *id + "\" comes before \"" + t.input + "\": its events never pass it");
            }
          }
        }
        if (evs) t.expect = test_events(*evs, true);
      }
      cfg_->tests.push_back(std::move(t));
    }
  }

  std::vector<Node> pending_tests_;
  std::unique_ptr<Config> cfg_;
  std::map<std::string, Location> globals_seen_;
  std::map<std::string, Location> pipeline_seen_;
};

bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::string("cannot read: ") + std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

}  // namespace

std::unique_ptr<Config> load_text(const std::string& file_name, const std::string& text, Diagnostics& diag,
                                  const EnvLookup& env) {
  Loader l(diag, env);
  l.parse_file(std::make_shared<Source>(Source{file_name, text}), true);
  return l.finish(true);
}

std::unique_ptr<Config> load(const std::string& path, Diagnostics& diag, const EnvLookup& env) {
  Loader l(diag, env);
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.path().extension() == ".yaml" && entry.is_regular_file()) files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      diag.error(Location{path, 0, 0}, "", "no *.yaml file in this directory");
      return nullptr;
    }
    for (const auto& f : files) {
      std::string text, err;
      if (!read_file(f, text, err)) {
        diag.error(Location{f, 0, 0}, "", err);
        continue;
      }
      l.parse_file(std::make_shared<Source>(Source{f, text}), false);
    }
    return l.finish(true);
  }
  std::string text, err;
  if (!read_file(path, text, err)) {
    diag.error(Location{path, 0, 0}, "", err);
    return nullptr;
  }
  l.parse_file(std::make_shared<Source>(Source{path, text}), true);
  return l.finish(true);
}

}  // namespace bifrost::config
