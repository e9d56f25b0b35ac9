// SASL OAUTHBEARER with OIDC client credentials, done by bifrost: Debian's
// librdkafka is built without its own OIDC support (no libcurl), so its
// token refresh callback is ours. When librdkafka wants a token (at start,
// and before the last one expires), bifrost POSTs
// grant_type=client_credentials (and the scope) to `token_url` with the
// client id and secret (HTTP basic auth), takes `access_token` and
// `expires_in` from the JSON answer, and hands the token to librdkafka with
// its `sub` claim as the principal (the client id when it has none). A
// failure is reported to librdkafka, which logs it and asks again.
//
// Threads: the callback runs on the thread that polls the client (the
// component's); the request is bounded by a 10 s timeout.
#pragma once

#include <librdkafka/rdkafka.h>

#include <string>

#include "common/kafka/security.h"

namespace bifrost::common::kafka {

// The value of sasl.oauthbearer.config that names these client credentials
// to the refresh callback (registered for the process: no secret in it).
std::string oidc_client(const SaslSettings& s, const std::string& secret);

// Makes `conf` get its OAUTHBEARER tokens as described above.
void use_oidc_refresh(rd_kafka_conf_t* conf);

// The `sub` claim of a JWT's payload; empty when there is none.
std::string jwt_subject(const std::string& token);

}  // namespace bifrost::common::kafka
