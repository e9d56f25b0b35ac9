#include "core/value.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/json.h"

namespace bifrost::core {

// What a frozen value's storage starts with; its items or members follow.
struct Frozen {
  const char* json;
  std::size_t json_size;
};
static_assert(sizeof(Frozen) % alignof(Member) == 0 && sizeof(Frozen) % alignof(Value) == 0);

Value* Value::find(std::string_view key) const {
  if (kind() != Kind::kObject) return nullptr;
  for (std::uint32_t i = 0; i < size_; ++i) {
    const std::string_view k = u_.o[i].key;
    // Length and first byte before memcmp: most keys differ there.
    if (k.size() == key.size() && (k.empty() || (k[0] == key[0] && k == key))) return &u_.o[i].value;
  }
  return nullptr;
}

void Value::grow(Arena& arena) {
  // Doubles up to kMaxCapacity; one past it makes reserve throw.
  reserve(size_ == 0 ? 4 : static_cast<std::uint32_t>(std::min<std::uint64_t>(2ull * size_, kMaxCapacity + 1ull)),
          arena);
}

Value& Value::set(std::string_view key, Value v, Arena& arena) {
  own(arena);
  if (Value* existing = find(key)) {
    *existing = v;
    return *existing;
  }
  return append(key, v, arena);
}

void Value::reserve(std::uint32_t capacity, Arena& arena) {
  if (capacity <= cap() || (kind() != Kind::kArray && kind() != Kind::kObject)) return;
  // Out of reach of any event (a JSON text of 268 million members is over
  // 1 GiB), as std::vector's max_size: an exception rather than a
  // core::Result, since no caller on the data path can get here and every
  // append would otherwise carry a result nobody can act on.
  if (capacity > kMaxCapacity) throw std::length_error("bifrost: an object or array of over 268 million members");
  capacity = std::max(capacity, size_);  // a shared value is copied whole
  const bool array = kind() == Kind::kArray;
  const std::size_t elem = array ? sizeof(Value) : sizeof(Member);
  void* p = arena.allocate(elem * capacity, array ? alignof(Value) : alignof(Member));
  if (size_) std::memcpy(p, storage(), elem * size_);
  if (array) u_.a = static_cast<Value*>(p);
  else u_.o = static_cast<Member*>(p);
  set_cap(capacity);
}

ObjectBuilder::ObjectBuilder(Value& object, Arena& arena, std::uint32_t more) : object_(object), arena_(arena) {
  object_.reserve(static_cast<std::uint32_t>(object_.members().size()) + more, arena_);
  for (const Member& m : object_.members()) seen_ |= bit(m.key);
}

Value& ObjectBuilder::set(std::string_view key, Value v) {
  const std::uint64_t b = bit(key);
  if (seen_ & b) return object_.set(key, v, arena_);
  seen_ |= b;
  return object_.append(key, v, arena_);
}

bool Value::erase(std::string_view key, Arena& arena) {
  if (kind() != Kind::kObject) return false;
  for (std::uint32_t i = 0; i < size_; ++i) {
    if (u_.o[i].key == key) {
      own(arena);
      std::memmove(&u_.o[i], &u_.o[i + 1], sizeof(Member) * (size_ - i - 1));
      --size_;
      return true;
    }
  }
  return false;
}

Value Value::freeze(Arena& arena) const {
  if (kind() != Kind::kArray && kind() != Kind::kObject) return *this;
  Value v(kind());           // capacity 0: shared
  if (size_ == 0) return v;  // nothing to share: a change appends to fresh storage
  thread_local std::string json;
  json.clear();
  append_json_value(json, *this);
  const bool array = kind() == Kind::kArray;
  const std::size_t elem = array ? sizeof(Value) : sizeof(Member);
  auto* header = static_cast<Frozen*>(arena.allocate(sizeof(Frozen) + elem * size_, alignof(Frozen)));
  header->json = arena.copy(json).data();
  header->json_size = json.size();
  void* items = header + 1;
  std::memcpy(items, storage(), elem * size_);
  if (array) v.u_.a = static_cast<Value*>(items);
  else v.u_.o = static_cast<Member*>(items);
  v.size_ = size_;
  // Deep: an object inside stays shared too, so no holder changes it in place.
  for (std::uint32_t i = 0; i < size_; ++i) {
    Value& child = array ? v.u_.a[i] : v.u_.o[i].value;
    if ((child.is_object() || child.is_array()) && !child.shared()) child = child.freeze(arena);
  }
  return v;
}

std::string_view Value::frozen_json() const {
  const Frozen* header = static_cast<const Frozen*>(storage()) - 1;
  return {header->json, header->json_size};
}

Value Value::unsigned_integer(std::uint64_t u, Arena& arena) {
  if (u <= static_cast<std::uint64_t>(INT64_MAX)) {
    Value v = integer(static_cast<std::int64_t>(u));
    v.tag_ |= kUnsignedFlag;
    return v;
  }
  char digits[20];
  auto end = std::to_chars(digits, digits + sizeof digits, u).ptr;
  return unsigned_digits(arena.copy({digits, static_cast<std::size_t>(end - digits)}));
}

Value clone(const Value& v, Arena& arena) {
  switch (v.kind()) {
    case Value::Kind::kString: {
      const std::string_view s = arena.copy(v.as_string());
      return v.is_unsigned() ? Value::unsigned_digits(s) : Value::string(s);
    }
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
    default: return v;
  }
}

}  // namespace bifrost::core
