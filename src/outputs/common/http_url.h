// The `url` option of the outputs that speak HTTP: http:// or https://,
// split into what the client connects to and the path (with the query).
#pragma once

#include <optional>
#include <string>

#include "config/node.h"

namespace bifrost::outputs {

struct HttpUrl {
  std::string text;              // as given
  std::string scheme_host_port;  // "http://127.0.0.1:8086"
  std::string path;              // "/prefix?q=1", or empty when the URL has none
};

// Reports a located error and returns nothing when `n` is not such a URL.
std::optional<HttpUrl> parse_http_url(const config::Node& n);

}  // namespace bifrost::outputs
