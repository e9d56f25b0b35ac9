// JSON output. Always produces valid UTF-8 JSON whatever the input bytes:
// quotes, backslashes and control characters are escaped, a NUL byte becomes
// \u0000, and each byte that is not part of valid UTF-8 becomes U+FFFD.
#pragma once

#include <cstring>
#include <string>
#include <string_view>

#include "core/event.h"
#include "core/time.h"

namespace bifrost::core {

// Appends JSON to `out` through a cursor: a token costs a bounds check and
// a pointer bump rather than std::string's bookkeeping. While the writer
// lives, `out` may be longer than what was written (not zeroed); the
// destructor cuts it to what was.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out), n_(out.size()) {}
  ~JsonWriter();
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  std::size_t size() const { return n_; }  // bytes written to `out`, from its start
  void put(char c) {
    *room(1) = c;
    ++n_;
  }
  void raw(std::string_view text) {  // already JSON
    if (text.empty()) return;        // may be {nullptr, 0}: not for memcpy
    std::memcpy(room(text.size()), text.data(), text.size());
    n_ += text.size();
  }
  void string(std::string_view s);
  void value(const Value& v);
  // {"@timestamp":"...","message":"...",<fields>} without a trailing newline.
  void event(const Event& e, Rfc3339Cache& time_cache);

 private:
  // `before` (a comma, or the brace of an object's first member), the key
  // and its colon.
  void key(char before, std::string_view k);
  char* room(std::size_t k) {
    if (out_.size() - n_ < k) grow(k);
    return out_.data() + n_;
  }
  void done(char* end) { n_ = static_cast<std::size_t>(end - out_.data()); }
  void grow(std::size_t k);

  std::string& out_;
  std::size_t n_;
};

void append_json_string(std::string& out, std::string_view s);
void append_json_value(std::string& out, const Value& v);

// {"@timestamp":"...","message":"...",<fields>} without a trailing newline.
void append_event_json(std::string& out, const Event& e, Rfc3339Cache& time_cache);

// True when `s` is valid UTF-8.
bool is_valid_utf8(std::string_view s);

// The ways strings are escaped, fastest first: each is used where the CPU
// has what it needs.
enum class JsonEscape { kAvx512, kSsse3, kPortable };
// Tests only: use no path faster than `fastest`, so that every path the
// machine has is checked.
void limit_json_escape(JsonEscape fastest);
JsonEscape json_escape_in_use();

}  // namespace bifrost::core
