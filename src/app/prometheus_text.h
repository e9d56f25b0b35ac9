// Reads the Prometheus text exposition (what GET /metrics serves) back into
// samples, for `bifrost top`.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bifrost::app {

struct Sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;

  // The value of label `key`, or "".
  const std::string& label(const std::string& key) const;
};

// Every sample line; comments and lines that do not parse are skipped.
std::vector<Sample> parse_prometheus_text(std::string_view text);

}  // namespace bifrost::app
