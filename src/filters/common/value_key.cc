#include "filters/common/value_key.h"

#include <cstring>

#include "core/json.h"
#include "core/json_value.h"

namespace bifrost::filters {

namespace {

void put(std::string& out, const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); }

template <class T>
T take(std::string_view& key) {
  T v{};
  if (key.size() < sizeof v) {
    key = {};
    return v;
  }
  std::memcpy(&v, key.data(), sizeof v);
  key.remove_prefix(sizeof v);
  return v;
}

}  // namespace

void append_key(std::string& out, const std::optional<core::Value>& v) {
  using K = core::Value::Kind;
  if (!v) {
    out += 'n';
    return;
  }
  switch (v->kind()) {
    case K::kNull: out += 'n'; return;
    case K::kBool: out += v->as_bool() ? 't' : 'f'; return;
    case K::kInt: {
      out += 'i';
      const std::int64_t i = v->as_int();
      put(out, &i, sizeof i);
      return;
    }
    case K::kDouble: {
      out += 'd';
      const double d = v->as_double();
      put(out, &d, sizeof d);
      return;
    }
    case K::kString: {
      out += 's';
      const auto s = v->as_string();
      const auto n = static_cast<std::uint32_t>(s.size());
      put(out, &n, sizeof n);
      out.append(s);
      return;
    }
    case K::kArray:
    case K::kObject: {
      out += 'j';
      const std::size_t len_at = out.size();
      std::uint32_t n = 0;
      put(out, &n, sizeof n);
      core::append_json_value(out, *v);
      n = static_cast<std::uint32_t>(out.size() - len_at - sizeof n);
      std::memcpy(out.data() + len_at, &n, sizeof n);
      return;
    }
  }
}

core::Value read_key(std::string_view& key, core::Arena& arena) {
  using core::Value;
  if (key.empty()) return Value();
  const char kind = key.front();
  key.remove_prefix(1);
  switch (kind) {
    case 't': return Value::boolean(true);
    case 'f': return Value::boolean(false);
    case 'i': return Value::integer(take<std::int64_t>(key));
    case 'd': return Value::number(take<double>(key));
    case 's':
    case 'j': {
      const auto n = std::min<std::size_t>(take<std::uint32_t>(key), key.size());
      std::string_view text = key.substr(0, n);
      key.remove_prefix(n);
      if (kind == 's') return Value::string(arena.copy(text));
      auto parsed = core::parse_json_value(text, arena);
      return parsed ? *parsed : Value();
    }
    default: return Value();
  }
}

}  // namespace bifrost::filters
