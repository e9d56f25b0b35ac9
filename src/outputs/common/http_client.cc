#include "outputs/common/http_client.h"

#include <curl/curl.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>

#include "core/log.h"
#include "core/secrets.h"

namespace bifrost::outputs {

namespace {

bool gzip(std::string_view in, std::string& out) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  out.resize(deflateBound(&z, in.size()) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END;
}

std::size_t collect(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// No connection was made: another host may answer.
bool connect_error(CURLcode c) {
  return c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST || c == CURLE_SEND_ERROR ||
         c == CURLE_RECV_ERROR || c == CURLE_GOT_NOTHING;
}

// The server's certificate or the TLS handshake failed: retried like a
// connection failure (the server's certificate may be renewed, a CA file
// fixed and reloaded), never retried without verification.
bool tls_error(CURLcode c) {
  return c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CONNECT_ERROR || c == CURLE_SSL_CACERT_BADFILE ||
         c == CURLE_SSL_CERTPROBLEM || c == CURLE_SSL_CIPHER || c == CURLE_SSL_ISSUER_ERROR ||
         c == CURLE_SSL_CRL_BADFILE || c == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

}  // namespace

std::string_view header_value(std::string_view headers, std::string_view name) {
  std::size_t pos = 0;
  while (pos < headers.size()) {
    std::size_t eol = headers.find('\n', pos);
    if (eol == std::string_view::npos) eol = headers.size();
    std::string_view line = headers.substr(pos, eol - pos);
    pos = eol + 1;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !iequal(line.substr(0, colon), name)) continue;
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  }
  return {};
}

std::string http_failure(long status, std::string_view body) {
  std::string text(body.substr(0, 300));
  std::replace(text.begin(), text.end(), '\n', ' ');
  return "HTTP " + std::to_string(status) + (text.empty() ? "" : ": " + text);
}

HttpClient::HttpClient(const HttpSettings& s, std::string id, std::size_t slots, std::vector<std::string> headers,
                       const char* api_key_scheme)
    : id_(std::move(id)), gzip_(s.gzip), slots_(slots) {
  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  (void)curl_ready;
  if (auto secret = read_secret(s.auth.secret, s.auth.secret_file)) {
    secret_ = std::move(*secret);
    // What goes on the wire for basic auth: a server that echoes it back
    // in an error body must not put it in the log or the failed queue.
    if (s.auth.kind == HttpAuth::Kind::kBasic) core::secrets::add(core::secrets::base64(s.auth.user + ":" + secret_));
  } else {
    secret_error_ = secret.error().message;
    core::log::error(id_, secret_error_);
  }
  tls_hint_ = s.tls.ca_file.empty() ? " (TLS: verified against the system's CA certificates; set tls.ca_file)"
                                    : " (TLS: verified against tls.ca_file " + s.tls.ca_file + ")";
  header_lines_ = std::move(headers);
  if (s.gzip) header_lines_.emplace_back("Content-Encoding: gzip");
  if (s.auth.kind == HttpAuth::Kind::kBearer) {
    header_lines_.push_back("Authorization: Bearer " + secret_);
  } else if (s.auth.kind == HttpAuth::Kind::kApiKey) {
    header_lines_.push_back(std::string("Authorization: ") + api_key_scheme + " " + secret_);
  }
  // No 100-continue round trip. Not with SigV4: libcurl 7.88 signs every
  // header it is given, this value-less one too, and the server then
  // computes another signature.
  if (s.auth.kind != HttpAuth::Kind::kAwsSigV4) header_lines_.emplace_back("Expect:");
  for (const auto& h : header_lines_) headers_ = curl_slist_append(headers_, h.c_str());
  multi_ = curl_multi_init();
  for (Slot& slot : slots_) {
    CURL* e = slot.easy = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_PRIVATE, &slot);
    // curl's own words on a failure ("SSL certificate problem: unable to
    // get local issuer certificate"), more precise than curl_easy_strerror.
    slot.error_text[0] = '\0';
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, slot.error_text);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &slot.answer.body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &collect);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &slot.answer.headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(s.timeout_ns / 1'000'000));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(s.connect_timeout_ns / 1'000'000));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // compressed answers are welcome
    if (s.auth.kind == HttpAuth::Kind::kBasic || s.auth.kind == HttpAuth::Kind::kAwsSigV4) {
      curl_easy_setopt(e, CURLOPT_USERNAME, s.auth.user.c_str());
      curl_easy_setopt(e, CURLOPT_PASSWORD, secret_.c_str());
    }
    if (s.auth.kind == HttpAuth::Kind::kAwsSigV4) curl_easy_setopt(e, CURLOPT_AWS_SIGV4, s.sigv4.c_str());
    if (!s.tls.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, s.tls.ca_file.c_str());
    if (!s.tls.verify) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!s.tls.cert_file.empty()) curl_easy_setopt(e, CURLOPT_SSLCERT, s.tls.cert_file.c_str());
    if (!s.tls.key_file.empty()) curl_easy_setopt(e, CURLOPT_SSLKEY, s.tls.key_file.c_str());
  }
}

HttpClient::~HttpClient() {
  for (Slot& slot : slots_) {
    if (slot.added) curl_multi_remove_handle(multi_, slot.easy);
    curl_easy_cleanup(slot.easy);
    curl_slist_free_all(slot.request_headers);
  }
  curl_multi_cleanup(multi_);
  curl_slist_free_all(headers_);
}

std::size_t HttpClient::acquire() {
  std::size_t i = 0;
  while (i + 1 < slots_.size() && slots_[i].busy) ++i;
  slots_[i].busy = true;
  return i;
}

void HttpClient::start(std::size_t i, const std::string& url, const char* method) {
  Slot& slot = slots_[i];
  const std::string* body = &slot.body;
  if (gzip_ && gzip(slot.body, slot.packed)) body = &slot.packed;
  slot.url = url;
  curl_slist_free_all(slot.request_headers);
  slot.request_headers = nullptr;
  if (!slot.extra.empty()) {
    for (const auto& h : header_lines_) slot.request_headers = curl_slist_append(slot.request_headers, h.c_str());
    for (const auto& h : slot.extra) slot.request_headers = curl_slist_append(slot.request_headers, h.c_str());
  }
  curl_easy_setopt(slot.easy, CURLOPT_HTTPHEADER, slot.request_headers ? slot.request_headers : headers_);
  curl_easy_setopt(slot.easy, CURLOPT_URL, slot.url.c_str());
  curl_easy_setopt(slot.easy, CURLOPT_CUSTOMREQUEST, std::string_view(method) == "POST" ? nullptr : method);
  curl_easy_setopt(slot.easy, CURLOPT_POSTFIELDS, body->data());
  curl_easy_setopt(slot.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  slot.answer.body.clear();
  slot.answer.headers.clear();
  slot.answer.error.clear();
  slot.answer.status = 0;
  slot.error_text[0] = '\0';
  slot.answer.sent = slot.answer.connect_failed = false;
  slot.done = false;
  curl_multi_add_handle(multi_, slot.easy);
  slot.added = true;
}

const HttpAnswer& HttpClient::wait(std::size_t i) {
  Slot& slot = slots_[i];
  while (!slot.done) {
    int running = 0;
    curl_multi_perform(multi_, &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      Slot* s = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&s));
      const CURLcode result = m->data.result;
      s->answer.sent = result == CURLE_OK;
      if (s->answer.sent) {
        curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &s->answer.status);
      } else {
        s->answer.connect_failed = connect_error(result);
        s->answer.error =
            std::string("request failed: ") + (s->error_text[0] ? s->error_text : curl_easy_strerror(result));
        if (tls_error(result)) s->answer.error += tls_hint_;
        s->answer.error += " (" + s->url + ")";
      }
      curl_multi_remove_handle(multi_, m->easy_handle);
      s->added = false;
      s->done = true;
    }
    if (!slot.done) curl_multi_poll(multi_, nullptr, 0, 100, nullptr);
  }
  return slot.answer;
}

}  // namespace bifrost::outputs
