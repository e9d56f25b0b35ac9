// What an S3 request is made of, apart from the HTTP client: where it goes
// (path-style or virtual-hosted URLs, keys percent-encoded the way SigV4
// canonicalizes them) and the SHA-256 of its payload.
//
// libcurl 7.88 (Debian 12) signs with CURLOPT_AWS_SIGV4 but takes the path
// and the query as they are written into the canonical request: so keys
// are encoded here once, every byte but A-Z a-z 0-9 - _ . ~ and '/', and
// queries are written in canonical form (sorted, `uploads=` with its '=').
// It hashes the payload itself only when no x-amz-content-sha256 header is
// given, and S3 requires that header: the output sends the SHA-256 it
// computes (signed payloads; no UNSIGNED-PAYLOAD, which some servers refuse
// over plain HTTP).
#pragma once

#include <string>
#include <string_view>

namespace bifrost::outputs::s3 {

// Percent-encodes `s` as SigV4 does (uppercase hex); '/' kept when `keep_slash`.
std::string uri_encode(std::string_view s, bool keep_slash);

// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

class Target {
 public:
  // `endpoint` "scheme://host[:port]" or empty (AWS: https://s3.REGION.amazonaws.com).
  Target(const std::string& endpoint, const std::string& region, const std::string& bucket, bool path_style);
  // The URL of object `key`, with `query` (canonical form) when not empty.
  std::string url(std::string_view key, std::string_view query = {}) const;
  const std::string& host_url() const { return base_; }

 private:
  std::string base_;  // scheme://host[:port]/bucket or scheme://bucket.host[:port]
};

}  // namespace bifrost::outputs::s3
