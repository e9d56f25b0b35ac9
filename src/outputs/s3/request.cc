#include "outputs/s3/request.h"

#include <openssl/sha.h>

namespace bifrost::outputs::s3 {

std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() + 16);
  for (unsigned char c : s) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * SHA256_DIGEST_LENGTH, '0');
  for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  return out;
}

Target::Target(const std::string& endpoint, const std::string& region, const std::string& bucket, bool path_style) {
  std::string scheme = "https://", host = "s3." + region + ".amazonaws.com";
  if (!endpoint.empty()) {
    const std::size_t at = endpoint.find("://");
    scheme = endpoint.substr(0, at + 3);
    host = endpoint.substr(at + 3);
  }
  base_ = path_style ? scheme + host + "/" + uri_encode(bucket, false) : scheme + bucket + "." + host;
}

std::string Target::url(std::string_view key, std::string_view query) const {
  std::string u = base_ + "/" + uri_encode(key, true);
  if (!query.empty()) u.append("?").append(query);
  return u;
}

}  // namespace bifrost::outputs::s3
