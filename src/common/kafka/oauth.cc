#include "common/kafka/oauth.h"

#include <curl/curl.h>
#include <simdjson.h>

#include <chrono>
#include <map>
#include <mutex>
#include <vector>

#include "core/secrets.h"

namespace bifrost::common::kafka {

namespace {

constexpr std::string_view kPrefix = "bifrost-oidc:";

struct Client {
  std::string token_url, client_id, secret, scope;
};

struct Registry {
  std::mutex mu;
  std::map<std::string, std::size_t> by_key;
  std::vector<Client> clients;
};

Registry& registry() {
  static Registry r;
  return r;
}

std::size_t collect(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// base64url (JWT), without padding; false on a bad character.
bool base64url_decode(std::string_view in, std::string& out) {
  unsigned value = 0;
  int bits = 0;
  for (char c : in) {
    int d = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '-' || c == '+' ? 62
            : c == '_' || c == '/' ? 63
            : c == '='             ? -2
                                   : -1;
    if (d == -2) break;
    if (d < 0) return false;
    value = (value << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xff));
    }
  }
  return true;
}

// Asks the token endpoint; false (and why) when no token came.
bool fetch(const Client& c, std::string& token, std::int64_t& expires_in_s, std::string& error) {
  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  (void)curl_ready;
  CURL* e = curl_easy_init();
  if (!e) {
    error = "cannot make an HTTP request";
    return false;
  }
  std::string body = "grant_type=client_credentials";
  if (!c.scope.empty()) {
    char* scope = curl_easy_escape(e, c.scope.c_str(), static_cast<int>(c.scope.size()));
    body += std::string("&scope=") + scope;
    curl_free(scope);
  }
  std::string answer;
  char why[CURL_ERROR_SIZE] = "";
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  curl_easy_setopt(e, CURLOPT_URL, c.token_url.c_str());
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
  curl_easy_setopt(e, CURLOPT_USERNAME, c.client_id.c_str());
  curl_easy_setopt(e, CURLOPT_PASSWORD, c.secret.c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, why);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10'000L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(e);
  long status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(e);
  if (rc != CURLE_OK) {
    error = "token request to " + c.token_url + " failed: " + (why[0] ? why : curl_easy_strerror(rc));
    return false;
  }
  if (status != 200) {
    error =
        "the token endpoint " + c.token_url + " answered HTTP " + std::to_string(status) + ": " + answer.substr(0, 200);
    return false;
  }
  simdjson::ondemand::parser parser;
  simdjson::padded_string json(answer);
  simdjson::ondemand::document doc;
  std::string_view access;
  if (parser.iterate(json).get(doc) != simdjson::SUCCESS ||
      doc["access_token"].get_string().get(access) != simdjson::SUCCESS) {
    error = "the token endpoint " + c.token_url + " answered without an access_token";
    return false;
  }
  token = std::string(access);
  std::int64_t expires = 3600;
  if (doc["expires_in"].get_int64().get(expires) != simdjson::SUCCESS) expires = 3600;
  expires_in_s = expires;
  return true;
}

void refresh(rd_kafka_t* rk, const char* config, void*) {
  std::string_view name = config ? config : "";
  Client c;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    std::size_t i = 0;
    if (!name.starts_with(kPrefix) || (i = std::stoul(std::string(name.substr(kPrefix.size())))) >= r.clients.size()) {
      rd_kafka_oauthbearer_set_token_failure(rk, "no OIDC client for this Kafka client (sasl.oauthbearer.config)");
      return;
    }
    c = r.clients[i];
  }
  std::string token, error;
  std::int64_t expires_in = 0;
  if (!fetch(c, token, expires_in, error)) {
    rd_kafka_oauthbearer_set_token_failure(rk, core::secrets::masked(error).c_str());
    return;
  }
  // The token is not registered with core::secrets: a new one comes every
  // expires_in, the registry only grows, and neither librdkafka nor bifrost
  // writes a token out.
  std::string principal = jwt_subject(token);
  if (principal.empty()) principal = c.client_id;
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  char err[512];
  if (rd_kafka_oauthbearer_set_token(rk, token.c_str(), now_ms + expires_in * 1000, principal.c_str(), nullptr, 0, err,
                                     sizeof err) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_oauthbearer_set_token_failure(rk, err);
  }
}

}  // namespace

std::string oidc_client(const SaslSettings& s, const std::string& secret) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  const std::string key = s.token_url + '\n' + s.username + '\n' + s.scope + '\n' + secret;
  auto [it, fresh] = r.by_key.try_emplace(key, r.clients.size());
  if (fresh) r.clients.push_back(Client{s.token_url, s.username, secret, s.scope});
  return std::string(kPrefix) + std::to_string(it->second);
}

void use_oidc_refresh(rd_kafka_conf_t* conf) { rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, &refresh); }

std::string jwt_subject(const std::string& token) {
  const std::size_t a = token.find('.');
  const std::size_t b = a == std::string::npos ? a : token.find('.', a + 1);
  if (b == std::string::npos) return "";
  std::string payload;
  if (!base64url_decode(std::string_view(token).substr(a + 1, b - a - 1), payload)) return "";
  simdjson::ondemand::parser parser;
  simdjson::padded_string json(payload);
  simdjson::ondemand::document doc;
  std::string_view sub;
  if (parser.iterate(json).get(doc) != simdjson::SUCCESS || doc["sub"].get_string().get(sub) != simdjson::SUCCESS)
    return "";
  return std::string(sub);
}

}  // namespace bifrost::common::kafka
