// A JSON-like value whose strings, arrays and objects live in a batch's
// Arena. Values are trivially copyable handles: copying one never allocates.
// Objects keep insertion order (it is the order users see in the output).
//
// Sharing: a frozen object or array (freeze()) may be held by many events at
// once, say the same `host` object on every event of a batch. It carries its
// JSON, encoded once, and its storage is never changed: every mutating
// method copies it first (copy on write). Code that changes a value it
// reached through another one's storage (a path) calls own() on each
// object it passes, so that the handle it writes to is its own.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/arena.h"

namespace bifrost::core {

struct Member;

class Value {
 public:
  enum class Kind : std::uint8_t { kNull, kBool, kInt, kDouble, kString, kArray, kObject };

  Value() : u_{} {}
  static Value boolean(bool b) {
    Value v(Kind::kBool);
    v.u_.b = b;
    return v;
  }
  static Value integer(std::int64_t i) {
    Value v(Kind::kInt);
    v.u_.i = i;
    return v;
  }
  static Value number(double d) {
    Value v(Kind::kDouble);
    v.u_.d = d;
    return v;
  }
  // `s` must outlive the value: arena memory, the batch's chunk, or static.
  static Value string(std::string_view s) {
    Value v(Kind::kString);
    v.u_.s = s.data();
    v.size_ = static_cast<std::uint32_t>(s.size());
    return v;
  }
  // An unsigned 64-bit integer (line protocol's `12u`), kept exactly in the
  // kinds every reader knows: up to INT64_MAX an int, above it its decimal
  // digits as a string (in `arena`). Either is flagged is_unsigned(), so
  // that the line-protocol writer gives it its `u` back; the flag lives in
  // the value (copies, the disk buffer keep it), not in JSON, which has no
  // unsigned type (there it is a plain number, or a string above INT64_MAX).
  static Value unsigned_integer(std::uint64_t u, Arena& arena);
  // The same from digits known to be a uint64 above INT64_MAX (`digits` must
  // outlive the value, as for string()).
  static Value unsigned_digits(std::string_view digits) {
    Value v = string(digits);
    v.tag_ |= kUnsignedFlag;
    return v;
  }
  static Value array(Arena& arena, std::uint32_t capacity);
  static Value object(Arena& arena, std::uint32_t capacity);

  Kind kind() const { return static_cast<Kind>(tag_ & kKindMask); }
  bool is_null() const { return kind() == Kind::kNull; }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_object() const { return kind() == Kind::kObject; }
  bool is_array() const { return kind() == Kind::kArray; }
  bool is_number() const { return kind() == Kind::kInt || kind() == Kind::kDouble; }
  // Made by unsigned_integer() (an int, or a string of digits above INT64_MAX).
  bool is_unsigned() const { return (tag_ & kUnsignedFlag) != 0 && (kind() == Kind::kInt || is_string()); }
  // A frozen, non-empty object or array: storage shared, read-only.
  bool shared() const { return cap() == 0 && size_ > 0 && (kind() == Kind::kArray || kind() == Kind::kObject); }

  bool as_bool() const { return u_.b; }
  std::int64_t as_int() const { return u_.i; }
  double as_double() const { return kind() == Kind::kInt ? static_cast<double>(u_.i) : u_.d; }
  std::string_view as_string() const { return {u_.s, size_}; }
  std::span<Value> items() const { return {u_.a, size_}; }
  std::span<Member> members() const;  // defined below, Member is incomplete here

  // Arrays.
  void push_back(Value v, Arena& arena);

  // Objects. `key` must outlive the value (arena-owned or static).
  Value* find(std::string_view key) const;
  Value& set(std::string_view key, Value v, Arena& arena);
  // Appends without looking for `key` first: only for keys known to be absent
  // (building a fresh object).
  Value& append(std::string_view key, Value v, Arena& arena);
  bool erase(std::string_view key, Arena& arena);
  // Room for `capacity` members (or items) without growing again.
  void reserve(std::uint32_t capacity, Arena& arena);

  // Sharing (see above). freeze() returns a shared handle to a copy of this
  // object or array, its JSON encoded now; other kinds come back as they are.
  Value freeze(Arena& arena) const;
  // Makes a shared object or array this handle's own copy; no-op otherwise.
  void own(Arena& arena) {
    if (shared()) reserve(size_, arena);
  }
  // The JSON of a shared value, encoded by freeze().
  std::string_view frozen_json() const;

 private:
  // 16 bytes, so that a Value is passed and returned in two registers: the
  // kind in the low 4 bits of tag_, an object's or array's capacity above
  // (a scalar's bit 4: kUnsignedFlag).
  static constexpr std::uint32_t kKindMask = 0xF;
  // Scalars have no capacity: the bit above the kind flags an unsigned integer.
  static constexpr std::uint32_t kUnsignedFlag = 0x10;
  static constexpr std::uint32_t kMaxCapacity = (std::uint32_t{1} << 28) - 1;
  explicit Value(Kind k) : u_{}, tag_(static_cast<std::uint32_t>(k)) {}
  std::uint32_t cap() const { return tag_ >> 4; }
  void set_cap(std::uint32_t c) { tag_ = (tag_ & kKindMask) | (c << 4); }
  void grow(Arena& arena);  // room for twice the members (or items), at least 4; copies a shared value
  void* storage() const { return kind() == Kind::kArray ? static_cast<void*>(u_.a) : static_cast<void*>(u_.o); }

  union U {
    bool b;
    std::int64_t i;
    double d;
    const char* s;
    Value* a;
    Member* o;
  } u_;
  std::uint32_t size_ = 0;
  std::uint32_t tag_ = 0;  // kNull, capacity 0
};
static_assert(sizeof(Value) == 16);

struct Member {
  std::string_view key;
  Value value;
};

// Sets many keys into one object without looking each up: a key is looked
// for only when one with the same length, first and last byte was set
// before (a 64-bit summary). For objects being built or merged into
// (a parsed JSON document), where most keys are new.
class ObjectBuilder {
 public:
  // `object` must be an object; `more` is how many keys are coming.
  ObjectBuilder(Value& object, Arena& arena, std::uint32_t more);
  Value& set(std::string_view key, Value v);

 private:
  static std::uint64_t bit(std::string_view key) {
    if (key.empty()) return 1;
    const auto h =
        key.size() * 7 + static_cast<unsigned char>(key.front()) * 3 + static_cast<unsigned char>(key.back());
    return std::uint64_t{1} << (h & 63);
  }
  Value& object_;
  Arena& arena_;
  std::uint64_t seen_ = 0;
};

inline std::span<Member> Value::members() const { return {u_.o, size_}; }

inline Value Value::array(Arena& arena, std::uint32_t capacity) {
  Value v(Kind::kArray);
  v.set_cap(std::clamp<std::uint32_t>(capacity, 1, kMaxCapacity));
  v.u_.a = arena.allocate_array<Value>(v.cap());
  return v;
}

inline Value Value::object(Arena& arena, std::uint32_t capacity) {
  Value v(Kind::kObject);
  v.set_cap(std::clamp<std::uint32_t>(capacity, 1, kMaxCapacity));
  v.u_.o = arena.allocate_array<Member>(v.cap());
  return v;
}

inline void Value::push_back(Value v, Arena& arena) {
  if (size_ >= cap()) grow(arena);  // >=: a shared array (capacity 0) is copied
  u_.a[size_++] = v;
}

inline Value& Value::append(std::string_view key, Value v, Arena& arena) {
  if (size_ >= cap()) grow(arena);  // >=: a shared object (capacity 0) is copied
  u_.o[size_] = Member{key, v};
  return u_.o[size_++].value;
}

// Deep copy of a value into another arena (used when a value must outlive
// the batch it was read from).
Value clone(const Value& v, Arena& arena);

}  // namespace bifrost::core
