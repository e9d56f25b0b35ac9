// libFuzzer: the s3 output reading what a server answers: the <Code> and
// <Message> of an error body, the <UploadId> of CreateMultipartUpload, and
// the verdict (retry or reject) of any status with any body. The first two
// bytes are the HTTP status. Nothing may crash, and the texts stay short
// and free of control bytes (they go into log lines and the failed queue).
#include <cstdint>
#include <string_view>

#include "outputs/s3/s3_error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bifrost::outputs::s3;
  if (size < 2) return 0;
  const long status = 100 + (data[0] << 8 | data[1]) % 500;
  const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  for (std::string_view tag : {"Code", "Message", "UploadId"}) {
    const std::string text = xml_text(body, tag);
    if (text.size() > 512) __builtin_trap();
    for (char c : text) {
      if (static_cast<unsigned char>(c) < 0x20) __builtin_trap();
    }
  }
  const S3Failure f = judge_status(status, body);
  if (f.reason.empty()) __builtin_trap();
  if (status >= 500 && !f.transient) __builtin_trap();
  return 0;
}
