#include "app/explain.h"

#include <algorithm>

namespace bifrost::app {

namespace {

std::string unquote(const std::string& s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s + " ";
}

const config::Setting* find(const std::vector<config::Setting>& settings, const std::string& key) {
  for (const auto& s : settings) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

std::string when_of(const std::vector<config::Setting>& settings) {
  const config::Setting* w = find(settings, "when");
  return w && w->given ? "when: " + w->value : "every event";
}

// "max_attempts 3 (default: initial_backoff 100ms, ...)" for the settings
// under `group.`; empty when the component has no such group.
std::string group_line(const std::vector<config::Setting>& settings, const std::string& group) {
  std::string given, defaults;
  bool any = false;
  for (const auto& s : settings) {
    if (!s.key.starts_with(group + ".")) continue;
    any = true;
    std::string item = s.key.substr(group.size() + 1);
    std::string value = unquote(s.value);
    if (!s.given && value.empty()) continue;  // no default (an optional file, say)
    item += " " + (value.empty() ? "\"\"" : value);
    std::string& into = s.given ? given : defaults;
    into += (into.empty() ? "" : ", ") + item;
  }
  if (!any) return "";
  if (defaults.empty()) return given;
  return given + (given.empty() ? "" : " ") + "(default: " + defaults + ")";
}

std::string where(const config::Location& l) {
  return l.file + ":" + std::to_string(l.line) + ":" + std::to_string(l.col);
}

}  // namespace

std::string explain(const config::Config& cfg) {
  std::size_t id_width = 12, type_width = 12;
  for (const auto& p : cfg.pipelines) {
    auto widen = [&](const auto& list) {
      for (const auto& c : list) {
        id_width = std::max(id_width, c.id.size());
        type_width = std::max(type_width, c.type.size());
      }
    };
    widen(p.inputs);
    widen(p.filters);
    widen(p.outputs);
  }
  std::string out;
  for (const auto& p : cfg.pipelines) {
    out += "\npipeline " + p.id + " (" + where(p.location) + "): " + std::to_string(p.inputs.size()) + " input(s) -> " +
           std::to_string(p.filters.size()) + " filter(s) -> " + std::to_string(p.outputs.size()) + " output(s)\n";
    out += "  inputs\n";
    for (const auto& c : p.inputs) out += "    " + pad(c.id, id_width + 3) + c.type + "\n";
    if (!p.filters.empty()) out += "  filters, in order\n";
    for (std::size_t i = 0; i < p.filters.size(); ++i) {
      const auto& c = p.filters[i];
      out += "    " + pad(std::to_string(i + 1), 2) + pad(c.id, id_width) + pad(c.type, type_width) +
             when_of(c.settings) + "\n";
    }
    out += "  outputs\n";
    for (const auto& c : p.outputs) {
      out += "    " + pad(c.id, id_width + 3) + pad(c.type, type_width) + when_of(c.settings) + "\n";
      for (const char* group : {"batch", "retry", "buffer", "failed_queue"}) {
        std::string line = group_line(c.settings, group);
        if (line.empty()) continue;
        std::string label = std::string(group) == "failed_queue" ? "failed queue" : group;
        if (std::string(group) == "failed_queue") {
          line = "in " + cfg.data_dir + "/failed/" + p.id + "/" + c.id + "/ " + line;
        } else if (std::string(group) == "buffer" && c.delivery.buffer.disk) {
          line = "in " + cfg.data_dir + "/buffers/" + p.id + "/" + c.id + "/ " + line;
        }
        out += "      " + pad(label, 13) + line + "\n";
      }
    }
  }
  return out;
}

}  // namespace bifrost::app
