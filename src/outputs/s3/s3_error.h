// S3's answers, read minimally and never trusted: the <Code> and <Message>
// of an error body, the <UploadId> of CreateMultipartUpload, and which
// failures are worth another try.
#pragma once

#include <string>
#include <string_view>

namespace bifrost::outputs::s3 {

// The text of the first <tag>...</tag> in `xml` (entities &lt; &gt; &amp;
// &quot; &apos; decoded), at most 512 bytes; empty when there is none.
std::string xml_text(std::string_view xml, std::string_view tag);

struct S3Failure {
  bool transient = true;
  std::string reason;  // "S3 <Code>: <Message> (HTTP <status>)" or the transport error
};

// What a non-2xx answer means: 408, 429, 5xx, and the codes SlowDown,
// InternalError, RequestTimeout, ServiceUnavailable, RequestTimeTooSkewed
// are transient; any other status (AccessDenied, NoSuchBucket,
// InvalidAccessKeyId, SignatureDoesNotMatch, ...) is permanent.
S3Failure judge_status(long status, std::string_view body);

}  // namespace bifrost::outputs::s3
