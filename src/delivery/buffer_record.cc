#include "delivery/buffer_record.h"

#include <cstring>

#include "core/crc32c.h"

namespace bifrost::delivery {

namespace {

constexpr int kMaxDepth = 1024;  // deeper than any parser that made the value allows
constexpr std::uint8_t kUnsignedBit = 0x80;

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

void put_str(std::string& out, std::string_view s) {
  put<std::uint32_t>(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

void put_value(std::string& out, const core::Value& v) {
  using K = core::Value::Kind;
  // The kind, and the unsigned flag (core::Value::unsigned_integer) in the
  // high bit, which older records never set.
  out.push_back(static_cast<char>(static_cast<std::uint8_t>(v.kind()) | (v.is_unsigned() ? kUnsignedBit : 0)));
  switch (v.kind()) {
    case K::kNull: break;
    case K::kBool: out.push_back(v.as_bool() ? 1 : 0); break;
    case K::kInt: put<std::int64_t>(out, v.as_int()); break;
    case K::kDouble: put<double>(out, v.as_double()); break;
    case K::kString: put_str(out, v.as_string()); break;
    case K::kArray:
      put<std::uint32_t>(out, static_cast<std::uint32_t>(v.items().size()));
      for (const core::Value& item : v.items()) put_value(out, item);
      break;
    case K::kObject:
      put<std::uint32_t>(out, static_cast<std::uint32_t>(v.members().size()));
      for (const core::Member& m : v.members()) {
        put_str(out, m.key);
        put_value(out, m.value);
      }
      break;
  }
}

// Bounds-checked reading of a payload.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  template <class T>
  bool get(T& v) {
    if (static_cast<std::size_t>(end_ - p_) < sizeof(T)) return false;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return true;
  }

  bool get_str(std::string_view& s) {
    std::uint32_t n;
    if (!get(n) || static_cast<std::size_t>(end_ - p_) < n) return false;
    s = std::string_view(p_, n);
    p_ += n;
    return true;
  }

  bool get_value(core::Value& v, core::Arena& arena, int depth) {
    using K = core::Value::Kind;
    std::uint8_t kind;
    if (depth > kMaxDepth || !get(kind)) return false;
    const bool is_unsigned = (kind & kUnsignedBit) != 0;
    kind &= static_cast<std::uint8_t>(~kUnsignedBit);
    if (is_unsigned && kind != static_cast<std::uint8_t>(K::kInt) && kind != static_cast<std::uint8_t>(K::kString)) {
      return false;
    }
    switch (static_cast<K>(kind)) {
      case K::kNull: v = core::Value(); return true;
      case K::kBool: {
        std::uint8_t b;
        if (!get(b)) return false;
        v = core::Value::boolean(b != 0);
        return true;
      }
      case K::kInt: {
        std::int64_t i;
        if (!get(i) || (is_unsigned && i < 0)) return false;
        v = is_unsigned ? core::Value::unsigned_integer(static_cast<std::uint64_t>(i), arena) : core::Value::integer(i);
        return true;
      }
      case K::kDouble: {
        double d;
        if (!get(d)) return false;
        v = core::Value::number(d);
        return true;
      }
      case K::kString: {
        std::string_view s;
        if (!get_str(s)) return false;
        v = is_unsigned ? core::Value::unsigned_digits(s) : core::Value::string(s);
        return true;
      }
      case K::kArray: {
        std::uint32_t n;
        if (!get(n) || n > left()) return false;  // each item takes a byte at least
        v = core::Value::array(arena, n);
        for (std::uint32_t i = 0; i < n; ++i) {
          core::Value item;
          if (!get_value(item, arena, depth + 1)) return false;
          v.push_back(item, arena);
        }
        return true;
      }
      case K::kObject: {
        std::uint32_t n;
        if (!get(n) || n > left() / 5) return false;  // a key's length and a kind at least
        v = core::Value::object(arena, n);
        for (std::uint32_t i = 0; i < n; ++i) {
          std::string_view key;
          core::Value value;
          if (!get_str(key) || !get_value(value, arena, depth + 1)) return false;
          v.append(key, value, arena);
        }
        return true;
      }
    }
    return false;
  }

  std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace

void append_buffer_record(std::string& out, const core::Batch& batch, const core::Event& e) {
  const std::size_t start = out.size();
  out.append(kRecordHeader, '\0');
  put<std::int64_t>(out, e.timestamp_ns);
  put<std::uint64_t>(out, e.offset);
  put<std::uint64_t>(out, batch.source_id);
  put_str(out, batch.source);
  put_str(out, e.message);
  put_value(out, e.fields);
  std::string_view payload(out.data() + start + kRecordHeader, out.size() - start - kRecordHeader);
  const auto length = static_cast<std::uint32_t>(payload.size());
  const std::uint32_t crc = core::crc32c(payload);
  std::memcpy(out.data() + start, &length, 4);
  std::memcpy(out.data() + start + 4, &crc, 4);
}

void encode_buffer_records(const core::Batch& batch, core::OutputSlot& slot) {
  slot.encoded.clear();
  slot.ends.clear();
  for (std::uint32_t i : slot.selected) {
    append_buffer_record(slot.encoded, batch, batch.events[i]);
    slot.ends.push_back(static_cast<std::uint32_t>(slot.encoded.size()));
  }
}

Result<RecordHeader> read_record_header(std::string_view bytes) {
  if (bytes.size() < kRecordHeader) return core::fail(Errc::kShort);  // no message: no allocation at a chunk's end
  RecordHeader h;
  std::memcpy(&h.length, bytes.data(), 4);
  std::memcpy(&h.crc, bytes.data() + 4, 4);
  return h;
}

bool checksum_matches(std::string_view payload, std::uint32_t crc) { return core::crc32c(payload) == crc; }

Result<void> decode_buffer_record(std::string_view payload, core::Event& e, RecordSource& source, core::Arena& arena) {
  Reader r(payload);
  if (!r.get(e.timestamp_ns) || !r.get(e.offset) || !r.get(source.id) || !r.get_str(source.name) ||
      !r.get_str(e.message) || !r.get_value(e.fields, arena, 0)) {
    return core::fail(Errc::kCorrupt, "a field runs past the payload or has an unknown kind");
  }
  if (!e.fields.is_null() && !e.fields.is_object()) return core::fail(Errc::kCorrupt, "the fields are not an object");
  if (r.left() != 0) return core::fail(Errc::kCorrupt, "bytes after the event");
  return {};
}

}  // namespace bifrost::delivery
