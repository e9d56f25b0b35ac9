#include "app/prometheus_text.h"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace bifrost::app {

const std::string& Sample::label(const std::string& key) const {
  static const std::string kNone;
  for (const auto& [k, v] : labels) {
    if (k == key) return v;
  }
  return kNone;
}

namespace {

bool parse_value(std::string_view s, double& out) {
  if (s == "+Inf" || s == "Inf") out = std::numeric_limits<double>::infinity();
  else if (s == "-Inf") out = -std::numeric_limits<double>::infinity();
  else if (s == "NaN") out = std::numeric_limits<double>::quiet_NaN();
  else {
    std::string copy(s);  // strtod wants a terminated string
    char* end = nullptr;
    out = std::strtod(copy.c_str(), &end);
    return !copy.empty() && end == copy.c_str() + copy.size();
  }
  return true;
}

// name{k="v",...} value [timestamp]
bool parse_line(std::string_view line, Sample& s) {
  std::size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ' && line[i] != '\t') ++i;
  s.name = std::string(line.substr(0, i));
  if (s.name.empty()) return false;
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      std::size_t eq = line.find('=', i);
      if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return false;
      std::string key(line.substr(i, eq - i));
      std::string value;
      std::size_t j = eq + 2;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size()) {
          ++j;
          value += line[j] == 'n' ? '\n' : line[j];
        } else {
          value += line[j];
        }
      }
      if (j >= line.size()) return false;
      s.labels.emplace_back(std::move(key), std::move(value));
      i = j + 1;
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) return false;
    ++i;  // '}'
  }
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  std::size_t end = i;
  while (end < line.size() && line[end] != ' ' && line[end] != '\t') ++end;
  return parse_value(line.substr(i, end - i), s.value);
}

}  // namespace

std::vector<Sample> parse_prometheus_text(std::string_view text) {
  std::vector<Sample> out;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    Sample s;
    if (parse_line(line, s)) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace bifrost::app
