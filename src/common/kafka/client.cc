#include "common/kafka/client.h"

#include <memory>

#include "common/kafka/oauth.h"
#include "core/log.h"
#include "core/secrets.h"

namespace bifrost::common::kafka {

namespace {
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};

// librdkafka names its own properties; what they are in a bifrost config.
const char* hint(std::string_view message) {
  if (message.find("certificate verify failed") != std::string_view::npos) {
    return " (bifrost: the broker's certificate is not signed by a CA of tls.ca_file, or of the system's CAs "
           "without it; ssl.ca.location is tls.ca_file)";
  }
  if (message.find("SASL authentication error") != std::string_view::npos) {
    return " (bifrost: check sasl.username and sasl.password or the file of sasl.password_file, then reload)";
  }
  return "";
}

// The value as librdkafka wants it: YAML booleans and numbers as text.
std::string property_text(const config::Node& v) {
  auto text = v.scalar("a property value (string, number or boolean)");
  return text ? *text : "";
}
}  // namespace

ClientSettings read_client_settings(config::MapReader& r) {
  ClientSettings s;
  auto brokers = r.string_list("brokers", "bootstrap brokers, host:port (a list, or one comma-separated string)",
                               /*required=*/true);
  read_security(r, s.security);
  auto passthrough = r.get("librdkafka", "map", "{}",
                           "librdkafka properties passed as they are (checked at load); they win over bifrost's");
  if (r.describing()) return s;
  for (const auto& b : brokers) {
    if (!s.brokers.empty()) s.brokers += ',';
    s.brokers += b;
  }
  if (!brokers.empty() && s.brokers.empty()) r.node().error("brokers: empty");
  if (passthrough) {
    std::unique_ptr<rd_kafka_conf_t, ConfDeleter> scratch(rd_kafka_conf_new());
    config::each_entry(*passthrough, "librdkafka property: value", [&](const config::Node& k, const config::Node& v) {
      std::string key = k.yaml().Scalar();
      std::string value = property_text(v);
      const bool secret = secret_property(key);
      if (secret) core::secrets::add(value);
      char err[512];
      switch (rd_kafka_conf_set(scratch.get(), key.c_str(), value.c_str(), err, sizeof err)) {
        case RD_KAFKA_CONF_OK: s.librdkafka.emplace_back(key, value); break;
        case RD_KAFKA_CONF_UNKNOWN:
          k.error("unknown librdkafka property \"" + key + "\" (see librdkafka's CONFIGURATION.md)");
          break;
        case RD_KAFKA_CONF_INVALID:
          // librdkafka's reason may quote the value: not for a secret.
          v.error(std::string("librdkafka refuses ") + key + (secret ? "" : std::string(": ") + err));
          break;
      }
    });
  }
  return s;
}

core::Result<rd_kafka_conf_t*, Error> make_conf(const ClientSettings& s,
                                                const std::vector<std::pair<std::string, std::string>>& ours) {
  std::unique_ptr<rd_kafka_conf_t, ConfDeleter> conf(rd_kafka_conf_new());
  char err[512];
  std::string error;
  auto set = [&](const std::string& k, const std::string& v) {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      error = k + ": " + err;
      return false;
    }
    return true;
  };
  std::vector<std::pair<std::string, std::string>> security;
  if (!security_properties(s.security, security, error)) return core::fail(Errc::kConfig, error);
  bool ok = set("bootstrap.servers", s.brokers);
  for (const auto& [k, v] : security) ok = ok && set(k, v);
  for (const auto& [k, v] : ours) ok = ok && set(k, v);
  for (const auto& [k, v] : s.librdkafka) ok = ok && set(k, v);
  if (!ok) return core::fail(Errc::kConfig, error);
  if (s.security.sasl.mechanism == "OAUTHBEARER") use_oidc_refresh(conf.get());
  return conf.release();
}

void log_librdkafka(std::string_view id, int level, const char* facility, const char* message) {
  if (level <= 3) core::log::error(id, "librdkafka ", facility, ": ", message, hint(message));
  else if (level <= 5) core::log::warn(id, "librdkafka ", facility, ": ", message, hint(message));
  else core::log::debug(id, "librdkafka ", facility, ": ", message);
}

void log_librdkafka_error(std::string_view id, int err, const char* reason) {
  core::log::warn(id, "librdkafka: ", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), ": ", reason,
                  hint(reason));
}

bool retriable(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:  // an invalid topic name
    case RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION: return false;
    default: return true;  // timeouts, brokers down, leader changes, not enough replicas, ...
  }
}

}  // namespace bifrost::common::kafka
