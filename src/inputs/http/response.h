// What the http input's answers are made of: status texts and labels, a
// JSON string for an error's reason, and the credentials check.
#pragma once

#include <string>
#include <string_view>

namespace bifrost::inputs::http {

const char* status_text(int status);
// The status as the label of bifrost_http_requests_total (a static string).
const char* status_label(int status);
// `s` as a JSON string (control characters become spaces).
std::string json_string(std::string_view s);

}  // namespace bifrost::inputs::http
