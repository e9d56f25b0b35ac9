#include "common/influx/writer.h"

#include <charconv>
#include <cmath>

#include "core/json.h"

namespace bifrost::common::influx {

namespace {
// `special` are the characters escaped with a backslash.
template <bool kEquals>
void append_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case ',':
      case ' ':
        out.push_back('\\');
        out.push_back(c);
        break;
      case '=':
        if (kEquals) out.push_back('\\');
        out.push_back(c);
        break;
      case '\n': out.append("\\n"); break;
      case '\t': out.append("\\t"); break;
      case '\r': out.append("\\r"); break;
      case '\f': out.append("\\f"); break;
      default: out.push_back(c);
    }
  }
}
}  // namespace

void append_measurement(std::string& out, std::string_view s) { append_escaped<false>(out, s); }
void append_key(std::string& out, std::string_view s) { append_escaped<true>(out, s); }

void append_string_field(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

bool append_field_value(std::string& out, const core::Value& v) {
  char buf[32];
  switch (v.kind()) {
    case core::Value::Kind::kNull: return false;
    case core::Value::Kind::kBool: out.append(v.as_bool() ? "true" : "false"); return true;
    case core::Value::Kind::kInt: {
      auto r = std::to_chars(buf, buf + sizeof buf, v.as_int());
      out.append(buf, r.ptr);
      out.push_back('i');
      return true;
    }
    case core::Value::Kind::kDouble: {
      double d = v.as_double();
      if (!std::isfinite(d)) return false;
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      out.append(buf, r.ptr);
      return true;
    }
    case core::Value::Kind::kString: append_string_field(out, v.as_string()); return true;
    default: {
      std::string json;
      core::append_json_value(json, v);
      append_string_field(out, json);
      return true;
    }
  }
}

}  // namespace bifrost::common::influx
