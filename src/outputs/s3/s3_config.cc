// Parsing of the s3 output's options (pure: no file, no environment).
#include <variant>

#include "outputs/s3/s3_output.h"

namespace bifrost::outputs::s3 {

namespace {

void read_auth(config::MapReader& a, Spec& s) {
  s.access_key_id = a.string("access_key_id", "", "the access key id");
  s.secret_access_key = a.secret("secret_access_key", "the secret access key (or secret_access_key_file)");
  s.secret_access_key_file = a.file("secret_access_key_file", "a file holding the secret access key", true);
  s.session_token = a.secret("session_token", "a session token (temporary credentials), optional");
  if (a.describing()) return;
  if (s.access_key_id.empty()) a.node().error("auth needs access_key_id");
  if (s.secret_access_key.empty() == s.secret_access_key_file.empty())
    a.node().error("auth needs secret_access_key or secret_access_key_file (one of them)");
}

bool valid_bucket(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_')) return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  auto endpoint = r.get("endpoint", "string", "",
                        "http(s)://host[:port] of an S3-compatible server (MinIO, Ceph); AWS's for the region when "
                        "absent");
  s->region = r.string("region", "", "the region requests are signed for; AWS_REGION or us-east-1 when absent");
  auto bucket = r.get("bucket", "string", "", "the bucket objects go to", true);
  auto key =
      r.get("key", "string", "dt=%Y-%m-%d/hour=%H/",
            "template of the key prefix ({{field}}, %Y %m %d %H of the event time); the object name is appended");
  s->codec = r.choice("encoding", "ndjson", {"ndjson", "text"},
                      "ndjson: one JSON event per line; text: the message of each event per line") == "ndjson"
                 ? Codec::kJson
                 : Codec::kText;
  const std::string compression =
      r.choice("compression", "gzip", {"gzip", "zstd", "none"}, "compression of the objects (.gz, .zst)");
  s->compression = compression == "gzip"   ? Compression::kGzip
                   : compression == "zstd" ? Compression::kZstd
                                           : Compression::kNone;
  s->max_object_bytes = r.bytes("max_object_bytes", s->max_object_bytes,
                                "an object is closed before its events, as encoded (uncompressed), pass this size");
  s->max_object_age_ns = r.duration_ns("max_object_age", s->max_object_age_ns,
                                       "an object is closed this long after its first event (by event time, and by "
                                       "the clock when no later event comes)");
  s->max_open_objects = r.integer("max_open_objects", s->max_open_objects, 1, 100000,
                                  "objects filling at once (one per source and prefix); past it the oldest is closed");
  s->part_size =
      r.bytes("part_size", s->part_size, "objects larger than this go up in multipart uploads of such parts");
  s->path_style = r.boolean("path_style", false,
                            "address the bucket in the path (http://host/bucket/key, MinIO) instead of the host name");
  r.section("auth",
            "the credentials; the AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN variables when "
            "absent",
            [&](config::MapReader& a) { read_auth(a, *s); });
  s->storage_class = r.string("storage_class", "", "x-amz-storage-class of the objects (STANDARD_IA, GLACIER_IR, ...)");
  s->http.timeout_ns = 60'000'000'000;
  read_tls_and_timeouts(r, s->http);
  if (r.describing()) return s;

  if (bucket) {
    if (auto b = bucket->scalar("a bucket name")) {
      s->bucket = *b;
      if (!valid_bucket(s->bucket))
        bucket->error("\"" + s->bucket + "\" is not a bucket name (3 to 63 of a-z 0-9 . - _)");
    }
  }
  if (key) {
    if (auto text = key->scalar("a key template")) {
      auto t = expr::Template::parse(*text);
      if (auto* e = std::get_if<expr::ParseError>(&t)) {
        key->error_at(e->offset, "bad key template: " + e->message);
      } else {
        s->key = std::move(std::get<expr::Template>(t));
        if (!text->empty() && text->front() == '/') key->error("the key must not start with '/'");
      }
    }
  } else {
    s->key = std::get<expr::Template>(expr::Template::parse("dt=%Y-%m-%d/hour=%H/"));
  }
  if (endpoint) {
    if (auto e = endpoint->scalar("a URL")) {
      s->endpoint = *e;
      while (!s->endpoint.empty() && s->endpoint.back() == '/') s->endpoint.pop_back();
      const bool http = s->endpoint.rfind("http://", 0) == 0, https = s->endpoint.rfind("https://", 0) == 0;
      const std::size_t host_at = http ? 7 : 8;
      if ((!http && !https) || s->endpoint.size() <= host_at || s->endpoint.find('/', host_at) != std::string::npos) {
        endpoint->error("endpoint must be http://host[:port] or https://host[:port] (no path)");
      }
    }
  }
  if (s->part_size < (5ull << 20)) r.node().error("part_size must be at least 5MiB (S3's smallest part)");
  if (s->max_object_bytes == 0) r.node().error("max_object_bytes must be above 0");
  if (s->max_object_age_ns <= 0) r.node().error("max_object_age must be above 0");
  return s;
}

}  // namespace bifrost::outputs::s3
