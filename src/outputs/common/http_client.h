// The one HTTP client of the outputs: libcurl's multi interface, with a
// ring of request slots (one easy handle each, connections kept alive and
// reused), so an output may have several requests on their way at once and
// drive them all from its one thread. Auth, TLS, gzip and timeouts come
// from HttpSettings, the same for every output.
//
// Threads: one (the output's). A slot is taken with acquire(), its body
// filled, started, waited for, and given back with release().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "outputs/common/http_settings.h"

typedef void CURL;
typedef void CURLM;
struct curl_slist;

namespace bifrost::outputs {

// 408, 429 and 5xx: the server may take the same request later.
inline bool transient_status(long status) { return status == 408 || status == 429 || status >= 500; }

// "HTTP <status>: <the first 300 bytes of the body, on one line>".
std::string http_failure(long status, std::string_view body);

struct HttpAnswer {
  bool sent = false;            // an answer came (any status)
  bool connect_failed = false;  // no connection at all: another host may answer
  std::string error;            // when !sent: what went wrong ("request failed: ... (URL)")
  long status = 0;
  std::string body;
  std::string headers;  // the answer's header lines, as received
};

// The value of header `name` (any case) in `headers` (lines "Name: value"),
// trimmed; empty when absent.
std::string_view header_value(std::string_view headers, std::string_view name);

class HttpClient {
 public:
  // `slots`: requests on their way at once, at most. `headers`: sent with
  // every request ("Content-Type: ..."). `api_key_scheme`: what precedes an
  // api_key in the Authorization header ("ApiKey", "Token").
  HttpClient(const HttpSettings& settings, std::string id, std::size_t slots, std::vector<std::string> headers,
             const char* api_key_scheme);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Set when a secret file could not be read: requests would be refused, so
  // the output reports every event as to retry, with this reason.
  const std::string& secret_error() const { return secret_error_; }

  // A free slot (one is always free: callers hold at most `slots` at once).
  std::size_t acquire();
  // The request body of a slot, to fill before start().
  std::string& body(std::size_t slot) { return slots_[slot].body; }
  // Headers of the slot's next request only ("Name: value"), beside the
  // client's; cleared by release().
  std::vector<std::string>& headers(std::size_t slot) { return slots_[slot].extra; }
  // Sends the slot's body to `url` (compressed if so set) and returns at once.
  void start(std::size_t slot, const std::string& url, const char* method = "POST");
  // Drives every request on its way until this slot's is answered or failed.
  const HttpAnswer& wait(std::size_t slot);
  // start() then wait().
  const HttpAnswer& send(std::size_t slot, const std::string& url, const char* method = "POST") {
    start(slot, url, method);
    return wait(slot);
  }
  void release(std::size_t slot) {
    slots_[slot].busy = false;
    slots_[slot].extra.clear();
  }

 private:
  struct Slot {
    CURL* easy = nullptr;
    bool busy = false;
    bool added = false;  // to the multi handle
    bool done = false;
    std::string url;
    std::string body, packed;  // packed: the gzipped body
    std::vector<std::string> extra;
    curl_slist* request_headers = nullptr;  // the client's and `extra`, when there are extra
    HttpAnswer answer;
    char error_text[256];  // CURLOPT_ERRORBUFFER (CURL_ERROR_SIZE)
  };

  std::string id_;
  bool gzip_;
  std::vector<std::string> header_lines_;  // what headers_ holds
  std::string secret_;                     // password, token or key, read at construction
  std::string secret_error_;
  std::string tls_hint_;  // after a TLS failure: what the certificate was checked against
  curl_slist* headers_ = nullptr;
  CURLM* multi_ = nullptr;
  std::vector<Slot> slots_;
};

}  // namespace bifrost::outputs
