#include "outputs/common/http_answer.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "config/reader.h"

namespace bifrost::outputs {

std::string http_failure(long status, std::string_view body) {
  std::string text(body.substr(0, 300));
  std::replace(text.begin(), text.end(), '\n', ' ');
  return "HTTP " + std::to_string(status) + (text.empty() ? "" : ": " + text);
}

std::string read_secret(const std::string& inline_value, const std::string& file, std::string& error) {
  if (file.empty()) return inline_value;
  std::ifstream in(file);
  if (!in) {
    error = "cannot read " + file;
    return "";
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

void read_batch_limits(const std::optional<config::Node>& batch, const char* what, std::int64_t& max_events,
                       std::uint64_t& max_bytes) {
  if (!batch) return;
  config::MapReader b(*batch);
  max_events = b.integer("max_events", max_events, 1, 1 << 20, std::string(what) + " per request at most");
  max_bytes = b.bytes("max_bytes", max_bytes, "bytes per request at most (a larger one is sent alone)");
  b.finish();
}

}  // namespace bifrost::outputs
