// An S3 server in the test's process, for the s3 output's unit tests (the
// real one, moto, is the integration tests'): path-style PUT of an object,
// multipart uploads (create, parts with ETags, complete) and their abort,
// without signatures. Keeps the objects' bodies by key; a test may hook
// each request before it is answered. Beside it: a Settlement that counts
// what it is told and retries disk writes a set number of times, and a
// helper that finds the descriptor a file is open on (to swap /dev/full in
// behind it: a disk that refuses writes).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "pipeline/component.h"
#include "support/fake_http_server.h"

namespace bifrost::testing {

class FakeS3 {
 public:
  // Called on the server's thread with each request before it is answered;
  // a status other than 0 answers with it (and an S3 error body).
  std::function<int(const httplib::Request&)> hook;

  FakeS3() : server_([this](const httplib::Request& req, httplib::Response& res) { answer(req, res); }) {}

  std::string url() const { return server_.url(); }
  std::vector<FakeHttpServer::Request> requests() const { return server_.requests(); }
  // Stored objects: key (without the bucket) -> body.
  std::map<std::string, std::string> objects() const {
    std::lock_guard lock(mu_);
    return objects_;
  }
  std::size_t open_uploads() const {
    std::lock_guard lock(mu_);
    return uploads_.size();
  }

 private:
  void answer(const httplib::Request& req, httplib::Response& res) {
    if (hook) {
      if (int status = hook(req); status != 0) {
        res.status = status;
        res.set_content("<Error><Code>Refused</Code><Message>by the test</Message></Error>", "application/xml");
        return;
      }
    }
    std::lock_guard lock(mu_);
    const std::string key = req.path.substr(req.path.find('/', 1) + 1);
    const std::string id = req.has_param("uploadId") ? req.get_param_value("uploadId") : "";
    if (req.method == "POST" && req.has_param("uploads")) {
      const std::string upload = "up-" + std::to_string(++next_upload_);
      uploads_[upload] = {};
      res.set_content(
          "<InitiateMultipartUploadResult><UploadId>" + upload + "</UploadId></InitiateMultipartUploadResult>",
          "application/xml");
    } else if (req.method == "PUT" && !id.empty()) {
      if (!uploads_.contains(id)) return no_such_upload(res);
      uploads_[id][std::stoi(req.get_param_value("partNumber"))] = req.body;
      res.set_header("ETag", "\"etag-" + req.get_param_value("partNumber") + "\"");
    } else if (req.method == "POST" && !id.empty()) {
      if (!uploads_.contains(id)) return no_such_upload(res);
      std::string body;
      for (const auto& [n, part] : uploads_[id]) body += part;
      objects_[key] = body;
      uploads_.erase(id);
      res.set_content("<CompleteMultipartUploadResult/>", "application/xml");
    } else if (req.method == "DELETE" && !id.empty()) {
      if (uploads_.erase(id) == 0) return no_such_upload(res);
      res.status = 204;
    } else if (req.method == "PUT") {
      objects_[key] = req.body;
    } else {
      res.status = 400;
    }
  }
  static void no_such_upload(httplib::Response& res) {
    res.status = 404;
    res.set_content("<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>", "application/xml");
  }

  mutable std::mutex mu_;
  std::map<std::string, std::string> objects_;
  std::map<std::string, std::map<int, std::string>> uploads_;
  int next_upload_ = 0;
  FakeHttpServer server_;  // last: stopped first
};

// What the output runner does for held events, counted; transient
// failures retried `attempts` times, disk writes `disk_tries` times (each
// failure calls `on_disk_failure` first, where a test may mend the disk).
struct FakeSettlement final : pipeline::Settlement {
  std::size_t delivered_events = 0, parked_events = 0, rejected_events = 0;
  int attempts = 3, disk_tries = 5, disk_failures = 0;
  std::function<void()> on_disk_failure;

  void delivered(Tries&, std::size_t events, std::uint64_t) override { delivered_events += events; }
  Next failed(Tries& tries, std::size_t, std::string_view) override {
    return ++tries.attempt < attempts ? Next::kAgain : Next::kExhausted;
  }
  void rejected(Tries&, std::size_t events, std::string_view) override { rejected_events += events; }
  bool park(const core::Batch&, std::span<const std::uint32_t> selected, std::string_view, int) override {
    parked_events += selected.size();
    return true;
  }
  bool retry_disk_write(const std::function<bool()>& write) override {
    for (int i = 0; i < disk_tries; ++i) {
      if (write()) return true;
      ++disk_failures;
      if (on_disk_failure) on_disk_failure();
    }
    return false;
  }
};

// The descriptor this process has `path` open on, or -1.
inline int fd_of(const std::string& path) {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return -1;
  int found = -1;
  while (dirent* e = ::readdir(d)) {
    char target[4096];
    const std::string link = std::string("/proc/self/fd/") + e->d_name;
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n > 0 && std::string(target, static_cast<std::size_t>(n)) == path) found = std::atoi(e->d_name);
  }
  ::closedir(d);
  return found;
}

// A disk that refuses writes behind descriptor `fd` (ENOSPC, /dev/full)
// until the returned function puts the file back.
inline std::function<void()> refuse_writes(int fd) {
  const int saved = ::dup(fd);
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  ::dup2(full, fd);
  ::close(full);
  return [fd, saved] {
    ::dup2(saved, fd);
    ::close(saved);
  };
}

}  // namespace bifrost::testing
