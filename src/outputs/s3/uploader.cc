#include "outputs/s3/uploader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/log.h"
#include "delivery/private_dir.h"
#include "outputs/s3/s3_error.h"

namespace bifrost::outputs::s3 {

namespace {

std::vector<std::string> client_headers(const std::string& session_token) {
  std::vector<std::string> h;
  if (!session_token.empty()) h.push_back("x-amz-security-token: " + session_token);
  return h;
}

// Reads [offset, offset + n) of `fd` into `out`.
bool read_range(int fd, std::uint64_t offset, std::size_t n, std::string& out) {
  out.resize(n);
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

UploadResult transient(std::string reason) { return {UploadResult::Kind::kTransient, std::move(reason), 0}; }

}  // namespace

Uploader::Uploader(const Spec& spec, const HttpSettings& http, const std::string& region,
                   const std::string& session_token, std::string id)
    : spec_(spec),
      id_(id),
      target_(spec.endpoint, region, spec.bucket, spec.path_style),
      client_(http, std::move(id), 1, client_headers(session_token), "") {}

UploadResult Uploader::send(std::size_t slot, const std::string& url, const char* method, const HttpAnswer** answer) {
  auto& h = client_.headers(slot);
  // Without one, libcurl calls a body a form (x-www-form-urlencoded), and
  // a server may read it so (moto then loses the query's partNumber).
  bool typed = false;
  for (const auto& line : h) typed = typed || line.rfind("Content-Type:", 0) == 0;
  if (!typed) h.emplace_back("Content-Type: application/octet-stream");
  h.push_back("x-amz-content-sha256: " + sha256_hex(client_.body(slot)));
  const HttpAnswer& a = client_.send(slot, url, method);
  *answer = &a;
  if (!a.sent) return transient(a.error);
  if (a.status >= 200 && a.status < 300) {
    // CompleteMultipartUpload may answer 200 with an error in its body.
    if (a.body.find("<Error>") != std::string::npos) {
      S3Failure f = judge_status(500, a.body);
      return {f.transient ? UploadResult::Kind::kTransient : UploadResult::Kind::kPermanent, f.reason, 0};
    }
    return {};
  }
  S3Failure f = judge_status(a.status, a.body);
  return {f.transient ? UploadResult::Kind::kTransient : UploadResult::Kind::kPermanent, f.reason, 0};
}

UploadResult Uploader::upload(const std::string& file, const std::string& key, const std::string& content_type,
                              UploadLog& log) {
  if (!client_.secret_error().empty()) return transient(client_.secret_error());
  const int fd = delivery::open_private_file(file, O_RDONLY);
  if (fd < 0) return transient("open " + file + ": " + std::strerror(errno));
  const off_t size = ::lseek(fd, 0, SEEK_END);
  ::close(fd);
  if (size < 0) return transient("size of " + file + ": " + std::strerror(errno));
  const auto n = static_cast<std::uint64_t>(size);
  UploadResult r = n <= spec_.part_size ? put(file, n, key, content_type) : multipart(file, n, key, content_type, log);
  if (r.kind == UploadResult::Kind::kStored) r.bytes = n;
  return r;
}

UploadResult Uploader::put(const std::string& file, std::uint64_t size, const std::string& key,
                           const std::string& content_type) {
  const std::size_t slot = client_.acquire();
  const int fd = delivery::open_private_file(file, O_RDONLY);
  const bool read = fd >= 0 && read_range(fd, 0, size, client_.body(slot));
  if (fd >= 0) ::close(fd);
  if (!read) {
    client_.release(slot);
    return transient("read " + file + ": " + std::strerror(errno));
  }
  auto& h = client_.headers(slot);
  h.push_back("Content-Type: " + content_type);
  if (!spec_.storage_class.empty()) h.push_back("x-amz-storage-class: " + spec_.storage_class);
  const HttpAnswer* a = nullptr;
  UploadResult r = send(slot, target_.url(key), "PUT", &a);
  client_.release(slot);
  client_.body(slot).clear();
  return r;
}

UploadResult Uploader::multipart(const std::string& file, std::uint64_t size, const std::string& key,
                                 const std::string& content_type, UploadLog& log) {
  const std::size_t slot = client_.acquire();
  const HttpAnswer* a = nullptr;
  client_.body(slot).clear();
  auto& h = client_.headers(slot);
  h.push_back("Content-Type: " + content_type);
  if (!spec_.storage_class.empty()) h.push_back("x-amz-storage-class: " + spec_.storage_class);
  UploadResult r = send(slot, target_.url(key, "uploads="), "POST", &a);
  std::string upload_id = r.kind == UploadResult::Kind::kStored ? xml_text(a->body, "UploadId") : "";
  client_.release(slot);
  if (r.kind != UploadResult::Kind::kStored) return r;
  if (upload_id.empty()) return transient("CreateMultipartUpload answered without an UploadId");
  const std::string id_query = "uploadId=" + uri_encode(upload_id, false);
  if (!log.begun(upload_id, key)) {
    abandon(key, upload_id, log);
    return transient("the multipart upload could not be journaled");
  }

  const int fd = delivery::open_private_file(file, O_RDONLY);
  if (fd < 0) {
    const int err = errno;
    abandon(key, upload_id, log);
    return transient("open " + file + ": " + std::strerror(err));
  }
  std::string complete = "<CompleteMultipartUpload>";
  int part = 0;
  for (std::uint64_t offset = 0; offset < size; offset += spec_.part_size) {
    ++part;
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(spec_.part_size, size - offset));
    const std::size_t s = client_.acquire();
    if (!read_range(fd, offset, n, client_.body(s))) {
      r = transient("read " + file + ": " + std::strerror(errno));
    } else {
      r = send(s, target_.url(key, "partNumber=" + std::to_string(part) + "&" + id_query), "PUT", &a);
    }
    std::string etag = r.kind == UploadResult::Kind::kStored ? std::string(header_value(a->headers, "ETag")) : "";
    client_.release(s);
    client_.body(s).clear();
    if (r.kind == UploadResult::Kind::kStored && etag.empty()) r = transient("UploadPart answered without an ETag");
    if (r.kind != UploadResult::Kind::kStored) {
      ::close(fd);
      abandon(key, upload_id, log);
      return r;
    }
    complete += "<Part><PartNumber>" + std::to_string(part) + "</PartNumber><ETag>" + etag + "</ETag></Part>";
  }
  ::close(fd);
  complete += "</CompleteMultipartUpload>";
  const std::size_t s = client_.acquire();
  client_.body(s) = std::move(complete);
  client_.headers(s).push_back("Content-Type: application/xml");
  r = send(s, target_.url(key, id_query), "POST", &a);
  client_.release(s);
  if (r.kind == UploadResult::Kind::kStored) log.ended(upload_id);
  else abandon(key, upload_id, log);
  return r;
}

UploadResult Uploader::abort(const std::string& key, const std::string& upload_id) {
  const std::size_t s = client_.acquire();
  client_.body(s).clear();
  const HttpAnswer* a = nullptr;
  UploadResult r = send(s, target_.url(key, "uploadId=" + uri_encode(upload_id, false)), "DELETE", &a);
  const bool gone = a && a->sent && a->status == 404 && xml_text(a->body, "Code") == "NoSuchUpload";
  client_.release(s);
  if (gone) return {};
  return r;
}

void Uploader::abandon(const std::string& key, const std::string& upload_id, UploadLog& log) {
  UploadResult r = abort(key, upload_id);
  if (r.kind == UploadResult::Kind::kStored) {
    log.ended(upload_id);
    return;
  }
  core::log::warn(id_, "AbortMultipartUpload of ", key, " failed (", r.reason, "); tried again later");
}

}  // namespace bifrost::outputs::s3
