#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "config/delivery_reader.h"
#include "config/describe.h"
#include "config/expr_reader.h"
#include "config/model.h"
#include "config/registry.h"
#include "config/tests_reader.h"
#include "config/yaml_tree.h"
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
  Loader(Diagnostics& diag, const EnvLookup& env) : ctx_{&diag, env}, cfg_(std::make_unique<Config>()) {
    ctx_.files = &cfg_->files;
  }

  void parse_file(std::shared_ptr<Source> src, bool single_file) {
    auto root = load_yaml(*src, *ctx_.diag);
    if (!root) return;
    Node top(*root, src, "", &ctx_);
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
    read_globals(r);
    auto [pipelines, inputs, filters, outputs, tests] = read_top(r);
    // x-anything: a place for anchors (x-defaults: &defaults {...}), as in Docker Compose files.
    for (auto it = root->begin(); it != root->end(); ++it) {
      if (it->first.Scalar().starts_with("x-")) r.ignore(it->first.Scalar());
    }
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
        auto [pin, pfi, pout] = read_pipeline(p);
        p.finish();
        if (!body.is_map()) continue;
        if (!valid_id(id)) {
          key.error("pipeline id \"" + id + "\" may only hold letters, digits, _ and -");
          continue;
        }
        if (auto seen = pipeline_seen_.find(id); seen != pipeline_seen_.end()) {
          key.error("pipeline \"" + id + "\" given twice (first at " + where(seen->second) + ")");
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
    for (const Node& t : pending_tests_) read_tests(t, *cfg_);
    if (ctx_.diag->ok() && any_file && cfg_->pipelines.empty()) {
      ctx_.diag->error(Location{"<config>", 0, 0}, "", "no pipeline defined in any file");
    }
    if (!ctx_.diag->ok()) return nullptr;
    return std::move(cfg_);
  }

  Context ctx_;

  // The keys of the top level besides the globals; run over nothing, it
  // describes them (bifrost schema).
  struct TopKeys {
    std::optional<Node> pipelines, inputs, filters, outputs, tests;
  };
  static TopKeys read_top(MapReader& r) {
    TopKeys k;
    k.pipelines = r.get("pipelines", "map of pipelines", "", "pipelines by id");
    k.inputs = r.get("inputs", "list of inputs", "", "inputs of the single pipeline `main`");
    k.filters = r.get("filters", "list of filters", "", "filters of the single pipeline `main`");
    k.outputs = r.get("outputs", "list of outputs", "", "outputs of the single pipeline `main`");
    k.tests = r.get("tests", "list of tests", "", "unit tests of the pipelines, run by `bifrost test`");
    return k;
  }

  struct PipelineKeys {
    std::optional<Node> inputs, filters, outputs;
  };
  static PipelineKeys read_pipeline(MapReader& p) {
    PipelineKeys k;
    k.inputs = p.get("inputs", "list of inputs", "", "where events come from", true);
    k.filters = p.get("filters", "list of filters", "", "stages each event goes through, in order");
    k.outputs = p.get("outputs", "list of outputs", "", "where events go", true);
    return k;
  }

  // data_dir, api, log, shutdown_timeout: in one file of a directory only.
  // Run over nothing, it describes them.
  void read_globals(MapReader& r) {
    if (auto n =
            r.get("data_dir", "string", "\"/var/lib/bifrost\"", "directory for checkpoints/, failed/ and buffers/");
        n && once("data_dir", *n)) {
      if (auto s = n->scalar()) {
        if (s->empty()) n->error("must not be empty");
        cfg_->data_dir = *s;
      }
    }
    if (auto n = r.section("api", "the HTTP API (metrics, health, tap, reload)", [&](MapReader& m) { read_api(m); })) {
      once("api", *n);
    }
    if (auto n = r.section("log", "bifrost's own log on stderr", [&](MapReader& m) { read_log(m); })) once("log", *n);
    if (auto n = r.get("shutdown_timeout", "duration", "30s", "how long a stop may take to deliver what is in flight");
        n && once("shutdown_timeout", *n)) {
      if (auto d = parse_duration(*n)) cfg_->shutdown_timeout_ns = *d;
    }
  }

 private:
  // False (and an error) when a global key was given in an earlier file.
  bool once(const std::string& key, const Node& n) {
    if (auto seen = globals_seen_.find(key); seen != globals_seen_.end()) {
      n.error("key \"" + key + "\" given twice (first at " + where(seen->second) +
              "): a global key goes in one file of the directory");
      return false;
    }
    globals_seen_[key] = n.location();
    return true;
  }

  void read_api(MapReader& r) {
    auto listen = r.get("listen", "string", "\"127.0.0.1:9598\"", "address of the HTTP API, or \"off\"");
    cfg_->api_token =
        r.secret("token", "when set, the API requires Authorization: Bearer TOKEN (but on `public` paths)");
    cfg_->api_token_file = r.file("token_file", "file holding the token (read at start)", /*secret=*/true);
    if (!cfg_->api_token.empty() && !cfg_->api_token_file.empty()) r.node().error("set token or token_file, not both");
    r.section("tls", "serve the API over HTTPS with this certificate", [&](MapReader& t) {
      cfg_->api_tls_cert_file = t.file("cert_file", "the server certificate (PEM, with its chain)");
      cfg_->api_tls_key_file = t.file("key_file", "its private key (PEM)", /*secret=*/true);
      if (!t.describing() && (cfg_->api_tls_cert_file.empty() || cfg_->api_tls_key_file.empty()))
        t.node().error("api.tls needs cert_file and key_file");
    });
    auto open_paths = r.get("public", "list of strings", "[/health, /ready]",
                            "paths served without the token: any of /health, /ready, /metrics");
    if (open_paths) read_public(*open_paths);
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

  void read_public(const Node& n) {
    if (!n.is_sequence()) {
      n.error("expected a list of paths (such as [/health, /ready]), got " + n.kind_name());
      return;
    }
    std::vector<std::string> paths;
    for (std::size_t i = 0; i < n.yaml().size(); ++i) {
      Node e = n.element(i);
      auto p = e.scalar();
      if (!p) continue;
      if (*p == "/tap" || *p == "/reload") {
        e.error(*p + " cannot be public: it " + (*p == "/tap" ? "shows the events" : "reloads the config") +
                "; it always needs the token");
      } else if (*p != "/health" && *p != "/ready" && *p != "/metrics") {
        e.error("\"" + *p + "\" is not a path of the API that may be public (/health, /ready, /metrics)");
      } else {
        paths.push_back(*p);
      }
    }
    cfg_->api_public = std::move(paths);
  }

  void read_log(MapReader& r) {
    std::string level = r.choice("level", "info", {"debug", "info", "warn", "error"}, "lowest level logged");
    std::string format = r.choice("format", "text", {"text", "json"}, "text, or one JSON object per line");
    cfg_->log_rate_limit_ns =
        r.duration_ns("rate_limit", cfg_->log_rate_limit_ns,
                      "a repeated warning or error is logged once per interval, with a count; 0 logs all");
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
    check_exactly_once(p);
    cfg_->pipelines.push_back(std::move(p));
  }

  // What cannot be exactly once is refused at load: an exactly-once output
  // commits the inputs' positions in its transactions, so every input must
  // hand them over, no stage may hold them back, and any other output must
  // take an event read again without duplicating it.
  void check_exactly_once(const PipelineConfig& p) {
    const OutputConfig* eo = nullptr;
    for (const auto& o : p.outputs) {
      if (!o.spec || !o.spec->exactly_once()) continue;
      if (eo) {
        ctx_.diag->error(o.location, "",
                         "output \"" + o.id + "\": only one output of a pipeline may have exactly_once: true (\"" +
                             eo->id + "\" has it): one transaction commits the inputs' positions");
        continue;
      }
      eo = &o;
    }
    if (!eo) return;
    const std::string why = " in pipeline \"" + p.id + "\", whose output \"" + eo->id + "\" has exactly_once: true";
    for (const auto& i : p.inputs) {
      if (i.spec && !i.spec->supports_exactly_once()) {
        ctx_.diag->error(i.location, "",
                         "input \"" + i.id + "\" (" + i.type + ") cannot be read exactly once" + why +
                             ": only kafka and file inputs hand their positions to the transaction");
      }
    }
    for (const auto& f : p.filters) {
      if (f.stage) {
        ctx_.diag->error(f.location, "",
                         "stage \"" + f.id + "\" (" + f.type + ") keeps state across batches and cannot take part" +
                             why + ": its state is not in the transaction");
      }
    }
    for (const auto& o : p.outputs) {
      if (&o != eo && o.spec && !o.spec->idempotent()) {
        ctx_.diag->error(o.location, "",
                         "output \"" + o.id + "\" (" + o.type + ") would write events again after a crash" + why +
                             ": another output must be idempotent (elasticsearch with document_id: auto or a "
                             "template, influxdb)");
      }
    }
    if (eo->delivery.buffer.disk) {
      ctx_.diag->error(eo->location, "",
                       "output \"" + eo->id +
                           "\": exactly_once: true cannot use buffer.type: disk (the buffer would acknowledge events "
                           "before the transaction holds them)");
    }
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
      c.settings.clear();
      r.record(&c.settings);
      std::vector<std::string> names = type_names(types);
      if (stages) {
        for (const auto& n : type_names(*stages)) names.push_back(n);
      }
      auto [id_node, type_node, when, delivery] = read_common_keys(r, kind, names, has_when);
      c.when = std::move(when);
      c.delivery = delivery;
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
      if (type && type->requires_when && !c.when && !r.node().yaml()["when"].IsDefined()) {
        item.error("a " + c.type + " filter needs `when:` (the events to drop)");
      }
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

ConfigDocs describe_config() {
  Diagnostics ignored;
  Loader l(ignored, process_env());
  Node none(YAML::Node(), nullptr, "", &l.ctx_);
  ConfigDocs d;
  MapReader globals(none, &d.globals);
  l.read_globals(globals);
  MapReader top(none, &d.top);
  Loader::read_top(top);
  MapReader pipeline(none, &d.pipeline);
  Loader::read_pipeline(pipeline);
  MapReader test(none, &d.test);
  read_test_keys(test);
  return d;
}

std::unique_ptr<Config> load_text(const std::string& file_name, const std::string& text, Diagnostics& diag,
                                  const EnvLookup& env) {
  Loader l(diag, env);
  l.parse_file(std::make_shared<Source>(Source{file_name, text, {}}), true);
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
      l.parse_file(std::make_shared<Source>(Source{f, text, {}}), false);
    }
    return l.finish(true);
  }
  std::string text, err;
  if (!read_file(path, text, err)) {
    diag.error(Location{path, 0, 0}, "", err);
    return nullptr;
  }
  l.parse_file(std::make_shared<Source>(Source{path, text, {}}), true);
  return l.finish(true);
}

}  // namespace bifrost::config
