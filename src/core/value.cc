#include "core/value.h"

#include <algorithm>

namespace bifrost::core {

Value Value::array(Arena& arena, std::uint32_t capacity) {
  Value v(Kind::kArray);
  v.cap_ = std::max<std::uint32_t>(capacity, 1);
  v.u_.a = arena.allocate_array<Value>(v.cap_);
  return v;
}

Value Value::object(Arena& arena, std::uint32_t capacity) {
  Value v(Kind::kObject);
  v.cap_ = std::max<std::uint32_t>(capacity, 1);
  v.u_.o = arena.allocate_array<Member>(v.cap_);
  return v;
}

void Value::grow(Arena& arena, std::size_t elem_size, std::size_t align) {
  std::uint32_t cap = cap_ ? cap_ * 2 : 4;
  void* p = arena.allocate(elem_size * cap, align);
  if (size_) std::memcpy(p, kind_ == Kind::kArray ? static_cast<void*>(u_.a) : static_cast<void*>(u_.o), elem_size * size_);
  if (kind_ == Kind::kArray) u_.a = static_cast<Value*>(p);
  else u_.o = static_cast<Member*>(p);
  cap_ = cap;
}

void Value::push_back(Value v, Arena& arena) {
  if (size_ == cap_) grow(arena, sizeof(Value), alignof(Value));
  u_.a[size_++] = v;
}

Value* Value::find(std::string_view key) const {
  if (kind_ != Kind::kObject) return nullptr;
  for (std::uint32_t i = 0; i < size_; ++i) {
    const std::string_view k = u_.o[i].key;
    // Length and first byte before memcmp: most keys differ there.
    if (k.size() == key.size() && (k.empty() || (k[0] == key[0] && k == key))) return &u_.o[i].value;
  }
  return nullptr;
}

Value& Value::set(std::string_view key, Value v, Arena& arena) {
  if (Value* existing = find(key)) {
    *existing = v;
    return *existing;
  }
  return append(key, v, arena);
}

Value& Value::append(std::string_view key, Value v, Arena& arena) {
  if (size_ == cap_) grow(arena, sizeof(Member), alignof(Member));
  u_.o[size_] = Member{key, v};
  return u_.o[size_++].value;
}

bool Value::erase(std::string_view key) {
  if (kind_ != Kind::kObject) return false;
  for (std::uint32_t i = 0; i < size_; ++i) {
    if (u_.o[i].key == key) {
      std::memmove(&u_.o[i], &u_.o[i + 1], sizeof(Member) * (size_ - i - 1));
      --size_;
      return true;
    }
  }
  return false;
}

Value clone(const Value& v, Arena& arena) {
  switch (v.kind()) {
    case Value::Kind::kString:
      return Value::string(arena.copy(v.as_string()));
    case Value::Kind::kArray: {
      Value out = Value::array(arena, static_cast<std::uint32_t>(v.items().size()));
      for (const Value& item : v.items()) out.push_back(clone(item, arena), arena);
      return out;
    }
    case Value::Kind::kObject: {
      Value out = Value::object(arena, static_cast<std::uint32_t>(v.members().size()));
      for (const Member& m : v.members()) out.set(arena.copy(m.key), clone(m.value, arena), arena);
      return out;
    }
    default:
      return v;
  }
}

}  // namespace bifrost::core
