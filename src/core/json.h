// JSON output. Always produces valid UTF-8 JSON whatever the input bytes:
// quotes, backslashes and control characters are escaped, a NUL byte becomes
// \u0000, and each byte that is not part of valid UTF-8 becomes U+FFFD.
#pragma once

#include <string>
#include <string_view>

#include "core/event.h"
#include "core/time.h"

namespace bifrost::core {

void append_json_string(std::string& out, std::string_view s);
void append_json_value(std::string& out, const Value& v);

// {"@timestamp":"...","message":"...",<fields>} without a trailing newline.
void append_event_json(std::string& out, const Event& e, Rfc3339Cache& time_cache);

// True when `s` is valid UTF-8.
bool is_valid_utf8(std::string_view s);

// Tests only: escape without the SSSE3 path even where the CPU has it, so
// both paths are checked on any machine.
void use_portable_json_escape(bool on);

}  // namespace bifrost::core
