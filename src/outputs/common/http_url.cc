#include "outputs/common/http_url.h"

namespace bifrost::outputs {

std::optional<HttpUrl> parse_http_url(const config::Node& n) {
  auto text = n.scalar("a URL");
  if (!text) return std::nullopt;
  HttpUrl u;
  u.text = *text;
  std::string_view s = u.text;
  std::size_t scheme_end = s.find("://");
  std::string_view scheme = scheme_end == std::string_view::npos ? "" : s.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    n.error("expected an http:// or https:// URL");
    return std::nullopt;
  }
  std::size_t path_start = s.find('/', scheme_end + 3);
  if (s.substr(scheme_end + 3, path_start - scheme_end - 3).find('@') != std::string_view::npos) {
    // Not quoted: the part before '@' is a password.
    n.error("credentials in the URL (user:password@): use auth: {user: U, password_file: F} instead");
    return std::nullopt;
  }
  u.scheme_host_port = std::string(s.substr(0, path_start));
  if (path_start != std::string_view::npos) u.path = std::string(s.substr(path_start));
  if (u.scheme_host_port.size() == scheme_end + 3) {
    n.error("the URL has no host");
    return std::nullopt;
  }
  return u;
}

}  // namespace bifrost::outputs
