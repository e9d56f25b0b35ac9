// librdkafka client settings shared by the `kafka` output and input:
// `brokers`, `tls` and `sasl` (security.h) and the `librdkafka:`
// passthrough map, checked at load (an unknown property or a bad value is a
// located config error, found by setting it on a scratch configuration: no
// socket, no file).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "common/kafka/security.h"
#include "config/reader.h"
#include "core/result.h"

namespace bifrost::common::kafka {

struct ClientSettings {
  std::string brokers;  // "host:port,host:port"
  SecuritySettings security;
  std::vector<std::pair<std::string, std::string>> librdkafka;  // passthrough, in file order
};

// Reads `brokers` (a list or a comma-separated string), `tls`, `sasl` and
// `librdkafka`.
ClientSettings read_client_settings(config::MapReader& r);

enum class Errc : std::uint8_t {
  kConfig,  // librdkafka refused a property
};
using Error = core::Error<Errc>;

// A configuration with the security properties and `ours` set first and
// the passthrough after them (a user's property wins); the caller owns it.
// kConfig, naming the property, when librdkafka refuses one, or naming the
// file when the SASL password file cannot be read.
core::Result<rd_kafka_conf_t*, Error> make_conf(const ClientSettings& s,
                                                const std::vector<std::pair<std::string, std::string>>& ours);

// librdkafka's log lines and error callbacks, into bifrost's log under the
// component's id.
void log_librdkafka(std::string_view id, int level, const char* facility, const char* message);
void log_librdkafka_error(std::string_view id, int err, const char* reason);

// Whether a failed delivery or request is worth trying again.
bool retriable(rd_kafka_resp_err_t err);

}  // namespace bifrost::common::kafka
