// Output `s3`: events to objects in a bucket of any S3-compatible server
// (AWS, MinIO, Ceph, moto), in ndjson or text, gzip, zstd or uncompressed,
// under a templated key prefix (Hive-style partitions by event time).
//
// Objects fill on disk (data_dir/s3/<pipeline>/<output>/), never in memory,
// and are uploaded when full (max_object_bytes), old (max_object_age), when
// max_open_objects are open (the oldest first) and at stop: one PUT, or a
// multipart upload past part_size. An event is acknowledged only once the
// object holding it is stored (Outcome::kHeld, then the Settlement).
//
// Exactly-once objects: an object holds the events of one source (a file by
// its identity, a Kafka partition) under one prefix, and is named after the
// host, the source and its first and last offsets; where each object was cut
// is journaled (journal.h) before its upload, so a re-read after a crash
// rebuilds the very same objects, and skips those already stored.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/reader.h"
#include "core/stats.h"
#include "expr/template.h"
#include "outputs/common/codec.h"
#include "outputs/common/http_settings.h"
#include "pipeline/component.h"

namespace bifrost::outputs::s3 {

enum class Compression : std::uint8_t { kGzip, kZstd, kNone };

struct Spec final : pipeline::OutputSpec {
  std::string endpoint;  // "scheme://host[:port]"; empty: AWS, from the region
  std::string region;    // empty: AWS_REGION, AWS_DEFAULT_REGION, us-east-1
  std::string bucket;
  std::optional<expr::Template> key;  // the prefix; the object name is appended
  Codec codec = Codec::kJson;
  Compression compression = Compression::kGzip;
  std::uint64_t max_object_bytes = 64ull << 20;
  std::int64_t max_object_age_ns = 600'000'000'000;
  std::int64_t max_open_objects = 32;
  std::uint64_t part_size = 8ull << 20;
  bool path_style = false;
  std::string access_key_id, secret_access_key, secret_access_key_file, session_token;
  std::string storage_class;
  HttpSettings http;  // tls and timeouts
  std::unique_ptr<pipeline::Output> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r);

std::vector<const core::MetricFamily*> metric_families();

}  // namespace bifrost::outputs::s3
