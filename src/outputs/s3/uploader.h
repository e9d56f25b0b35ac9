// Puts a finished staging file into the bucket: one PUT up to part_size,
// past it a multipart upload (CreateMultipartUpload, UploadPart of
// part_size each, CompleteMultipartUpload), aborted (AbortMultipartUpload)
// when any step fails, so no abandoned upload is left behind; each one
// begun is recorded (UploadLog: the journal) before its first part goes,
// so that one a crash cut short is aborted at the next start. Every request
// is signed (SigV4, by libcurl) over its payload's SHA-256. A part is read
// into memory to be sent: an upload holds at most part_size.
//
// Threads: the output's thread only.
#pragma once

#include <cstdint>
#include <string>

#include "outputs/common/http_client.h"
#include "outputs/s3/request.h"
#include "outputs/s3/s3_output.h"

namespace bifrost::outputs::s3 {

struct UploadResult {
  enum class Kind : std::uint8_t { kStored, kTransient, kPermanent } kind = Kind::kStored;
  std::string reason;
  std::uint64_t bytes = 0;  // sent
};

// Where the multipart uploads begun and ended are recorded (the journal).
class UploadLog {
 public:
  virtual ~UploadLog() = default;
  // Durably, before the first part is sent. False: it could not be (the
  // upload is aborted and the object tried again).
  virtual bool begun(const std::string& upload_id, const std::string& key) = 0;
  // Completed or aborted.
  virtual void ended(const std::string& upload_id) = 0;
};

class Uploader {
 public:
  // `http` carries the SigV4 credentials; `session_token` may be empty.
  Uploader(const Spec& spec, const HttpSettings& http, const std::string& region, const std::string& session_token,
           std::string id);

  UploadResult upload(const std::string& file, const std::string& key, const std::string& content_type, UploadLog& log);
  // Aborts a multipart upload (one a crash cut short); kStored when it is
  // gone, also when the server knows it no more (NoSuchUpload).
  UploadResult abort(const std::string& key, const std::string& upload_id);
  // Set when the secret file could not be read (every upload fails, to retry).
  const std::string& secret_error() const { return client_.secret_error(); }

 private:
  UploadResult put(const std::string& file, std::uint64_t size, const std::string& key,
                   const std::string& content_type);
  UploadResult multipart(const std::string& file, std::uint64_t size, const std::string& key,
                         const std::string& content_type, UploadLog& log);
  // Sends the slot's body; judges the answer. `answer` is the raw answer.
  UploadResult send(std::size_t slot, const std::string& url, const char* method, const HttpAnswer** answer);
  // Aborts an upload that failed, and says so in `log` when it is gone.
  void abandon(const std::string& key, const std::string& upload_id, UploadLog& log);

  const Spec& spec_;
  std::string id_;
  Target target_;
  HttpClient client_;
};

}  // namespace bifrost::outputs::s3
