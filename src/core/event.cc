#include "core/event.h"

#include <mutex>
#include <set>

namespace bifrost::core {

const char* reject_reason(const char* reason) {
  static std::mutex mu;
  static std::set<std::string, std::less<>> interned;
  std::string key = std::string("!") + reason;
  std::lock_guard lock(mu);
  return interned.insert(std::move(key)).first->c_str();
}

std::optional<FieldPath> FieldPath::parse(std::string_view text) {
  FieldPath p;
  p.text_ = std::string(text);
  if (text.empty()) return std::nullopt;
  if (text == "message") {
    p.root_ = Root::kMessage;
    return p;
  }
  if (text == "@timestamp") {
    p.root_ = Root::kTimestamp;
    return p;
  }
  std::size_t start = 0;
  while (true) {
    std::size_t dot = text.find('.', start);
    std::string_view seg = text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (seg.empty()) return std::nullopt;
    p.segments_.emplace_back(seg);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return p;
}

std::optional<Value> get_field(const Event& e, const FieldPath& path) {
  switch (path.root()) {
    case FieldPath::Root::kMessage: return Value::string(e.message);
    case FieldPath::Root::kTimestamp: return Value::integer(e.timestamp_ns);
    case FieldPath::Root::kFields: break;
  }
  const Value* cur = &e.fields;
  for (const std::string& seg : path.segments()) {
    cur = cur->find(seg);
    if (cur == nullptr) return std::nullopt;
  }
  return *cur;
}

bool set_field(Event& e, const FieldPath& path, Value v, Arena& arena) {
  switch (path.root()) {
    case FieldPath::Root::kMessage:
      if (!v.is_string()) return false;
      e.message = v.as_string();
      return true;
    case FieldPath::Root::kTimestamp:
      if (v.kind() != Value::Kind::kInt) return false;
      e.timestamp_ns = v.as_int();
      return true;
    case FieldPath::Root::kFields: break;
  }
  if (!e.fields.is_object()) e.fields = Value::object(arena, 8);
  Value* cur = &e.fields;
  const auto& segs = path.segments();
  for (std::size_t i = 0; i + 1 < segs.size(); ++i) {
    cur->own(arena);  // the handle `next` points to is changed below
    Value* next = cur->find(segs[i]);
    if (next == nullptr || !next->is_object()) {
      next = &cur->set(arena.copy(segs[i]), Value::object(arena, 4), arena);
    }
    cur = next;
  }
  cur->set(arena.copy(segs.back()), v, arena);
  return true;
}

bool remove_field(Event& e, const FieldPath& path, Arena& arena) {
  switch (path.root()) {
    case FieldPath::Root::kMessage: e.message = {}; return true;
    case FieldPath::Root::kTimestamp: return false;
    case FieldPath::Root::kFields: break;
  }
  Value* cur = &e.fields;
  const auto& segs = path.segments();
  for (std::size_t i = 0; i + 1 < segs.size(); ++i) {
    if (!cur->find(segs[i])) return false;  // nothing to remove: nothing copied
    cur->own(arena);
    cur = cur->find(segs[i]);
  }
  return cur->erase(segs.back(), arena);
}

void add_tag(Event& e, std::string_view tag, Arena& arena) {
  if (!e.fields.is_object()) e.fields = Value::object(arena, 8);
  e.fields.own(arena);
  std::string_view name = "tags";
  Value* tags = e.fields.find(name);
  if (tags != nullptr && !tags->is_array()) tags = e.fields.find(name = "_tags");
  if (tags == nullptr || !tags->is_array()) tags = &e.fields.set(name, Value::array(arena, 2), arena);
  for (const Value& t : tags->items()) {
    if (t.is_string() && t.as_string() == tag) return;
  }
  tags->push_back(Value::string(tag), arena);
}

}  // namespace bifrost::core
