#include "outputs/s3/s3_output.h"

#include <cstdlib>
#include <stdexcept>

#include "core/secrets.h"
#include "outputs/s3/metrics.h"
#include "outputs/s3/output.h"

namespace bifrost::outputs::s3 {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

std::vector<const core::MetricFamily*> metric_families() {
  return {&kObjectsUploaded, &kBytesUploaded, &kUploadDuration, &kOpenObjects, &kOpenObjectBytes};
}

std::unique_ptr<pipeline::Output> Spec::build(const pipeline::BuildContext& ctx) const {
  std::string region = this->region;
  if (region.empty()) region = env("AWS_REGION");
  if (region.empty()) region = env("AWS_DEFAULT_REGION");
  if (region.empty()) region = "us-east-1";
  HttpSettings h = http;
  h.auth.kind = HttpAuth::Kind::kAwsSigV4;
  h.sigv4 = "aws:amz:" + region + ":s3";
  std::string token = session_token;
  if (!access_key_id.empty()) {
    h.auth.user = access_key_id;
    h.auth.secret = secret_access_key;
    h.auth.secret_file = secret_access_key_file;
  } else {
    h.auth.user = env("AWS_ACCESS_KEY_ID");
    h.auth.secret = env("AWS_SECRET_ACCESS_KEY");
    if (token.empty()) token = env("AWS_SESSION_TOKEN");
    // Known from the environment only now: masked like the config's secrets.
    core::secrets::add(h.auth.secret);
    core::secrets::add(token);
    if (h.auth.user.empty() || h.auth.secret.empty()) {
      throw std::runtime_error("s3 output " + ctx.component +
                               ": no credentials: give auth: {access_key_id, secret_access_key} or set "
                               "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    }
  }
  return std::make_unique<S3Output>(*this, ctx, h, region, token);
}

}  // namespace bifrost::outputs::s3
