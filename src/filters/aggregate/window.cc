#include "filters/aggregate/window.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

#include "filters/common/hash.h"
#include "filters/common/value_key.h"

namespace bifrost::filters::aggregate {

namespace {

bool is_integral(double d) { return std::nearbyint(d) == d && std::fabs(d) < 9.0e15; }

}  // namespace

// A value's hash for count_distinct, straight from its bytes (no copy):
// each kind with a seed of its own, so 200 and "200" differ.
std::uint64_t value_hash(const core::Value& v) {
  using K = core::Value::Kind;
  switch (v.kind()) {
    case K::kString: return hash64(v.as_string(), 0x737472);
    case K::kInt: return hash_int(static_cast<std::uint64_t>(v.as_int()), 0x696e74);
    case K::kDouble: return hash_int(std::bit_cast<std::uint64_t>(v.as_double()), 0x64626c);
    case K::kBool: return hash_int(v.as_bool(), 0x626f6f);
    case K::kNull: return hash_int(0, 0x6e756c);
    default: break;
  }
  thread_local std::string scratch;  // arrays and objects: as their canonical bytes
  scratch.clear();
  append_key(scratch, v);
  return hash64(scratch, 0x6a736e);
}

// ---- inputs and cells ----------------------------------------------------------

Input read_input(const std::optional<core::Value>& v, bool want_number, bool want_hash) {
  Input in;
  if (!v || v->is_null()) return in;
  in.kind = Input::Kind::kNotANumber;
  if (want_hash) in.hash = value_hash(*v);
  if (!want_number) return in;
  switch (v->kind()) {
    case core::Value::Kind::kInt:
      in.kind = Input::Kind::kNumber;
      in.is_int = true;
      in.i = v->as_int();
      in.d = static_cast<double>(in.i);
      break;
    case core::Value::Kind::kDouble:
      if (std::isfinite(v->as_double())) {
        in.kind = Input::Kind::kNumber;
        in.d = v->as_double();
      }
      break;
    case core::Value::Kind::kString: {
      // A number in text ("1234" from a regex capture) counts as the number.
      std::string_view s = v->as_string();
      const char* end = s.data() + s.size();
      std::int64_t i;
      if (auto r = std::from_chars(s.data(), end, i); !s.empty() && r.ec == std::errc() && r.ptr == end) {
        in.kind = Input::Kind::kNumber;
        in.is_int = true;
        in.i = i;
        in.d = static_cast<double>(i);
        break;
      }
      double d;
      if (auto r = std::from_chars(s.data(), end, d);
          !s.empty() && r.ec == std::errc() && r.ptr == end && std::isfinite(d)) {
        in.kind = Input::Kind::kNumber;
        in.d = d;
      }
      break;
    }
    default: break;
  }
  return in;
}

bool update(Cell& c, const MetricSpec& m, const Input& in) {
  switch (m.kind) {
    case MetricKind::kCount: ++c.n; return true;
    case MetricKind::kCountDistinct:
      if (in.kind == Input::Kind::kMissing) return false;
      if (!c.distinct) c.distinct = std::make_unique<DistinctCounter>();
      c.distinct->add(in.hash);
      ++c.n;
      return true;
    default: break;
  }
  if (in.kind != Input::Kind::kNumber) return false;
  switch (m.kind) {
    case MetricKind::kSum:
    case MetricKind::kAvg:
      if (std::int64_t sum; in.is_int && !__builtin_add_overflow(c.i, in.i, &sum)) {
        c.i = sum;
        break;
      }
      c.d += in.d;  // a double, or an integer sum past int64: the result is a double
      c.dbl = true;
      break;
    case MetricKind::kMin:
    case MetricKind::kMax:
      if (c.n == 0 || (m.kind == MetricKind::kMin ? in.d < c.d : in.d > c.d)) c.d = in.d;
      c.dbl = c.dbl || !in.is_int;
      break;
    case MetricKind::kPercentile:
      if (!c.sketch) c.sketch = std::make_unique<QuantileSketch>();
      c.sketch->add(in.d);
      break;
    default: break;
  }
  ++c.n;
  return true;
}

std::optional<core::Value> result(const Cell& c, const MetricSpec& m) {
  using core::Value;
  switch (m.kind) {
    case MetricKind::kCount: return Value::integer(static_cast<std::int64_t>(c.n));
    case MetricKind::kCountDistinct:
      return Value::integer(c.distinct ? static_cast<std::int64_t>(c.distinct->estimate()) : 0);
    case MetricKind::kSum: return c.dbl ? Value::number(static_cast<double>(c.i) + c.d) : Value::integer(c.i);
    case MetricKind::kAvg:
      if (c.n == 0) return std::nullopt;
      return Value::number((static_cast<double>(c.i) + c.d) / static_cast<double>(c.n));
    case MetricKind::kMin:
    case MetricKind::kMax:
      if (c.n == 0) return std::nullopt;
      return c.dbl || !is_integral(c.d) ? Value::number(c.d) : Value::integer(static_cast<std::int64_t>(c.d));
    case MetricKind::kPercentile:
      if (!c.sketch || c.sketch->count() == 0) return std::nullopt;
      return Value::number(c.sketch->quantile(m.q));
  }
  return std::nullopt;
}

// ---- the window ---------------------------------------------------------------------

Cell* Window::group(std::uint64_t h, std::string_view key, std::size_t max_groups) {
  if (!slots_.empty()) {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask; slots_[i] != 0; i = (i + 1) & mask) {
      const Group& g = groups_[slots_[i] - 1];
      if (g.hash == h && g.key_len == key.size() &&
          std::memcmp(keys_.data() + g.key_off, key.data(), key.size()) == 0) {
        return &cells_[(slots_[i] - 1) * metrics_];
      }
    }
  }
  if (groups_.size() >= max_groups) return nullptr;
  if ((groups_.size() + 1) * 2 > slots_.size()) rehash(slots_.empty() ? 16 : slots_.size() * 2);
  groups_.push_back(Group{h, static_cast<std::uint32_t>(keys_.size()), static_cast<std::uint32_t>(key.size())});
  keys_.append(key);
  cells_.resize(groups_.size() * metrics_);
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = h & mask;
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = static_cast<std::uint32_t>(groups_.size());
  return &cells_[(groups_.size() - 1) * metrics_];
}

void Window::rehash(std::size_t slots) {
  slots_.assign(slots, 0);
  const std::size_t mask = slots - 1;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    std::size_t i = groups_[g].hash & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = static_cast<std::uint32_t>(g + 1);
  }
}

void Window::clear_groups() {
  groups_.clear();
  keys_.clear();
  cells_.clear();
  slots_.clear();
}

void Window::hold(const core::Batch& b) {
  if (!b.tracker || (b.tracker.get() == held_tracker_ && b.ack_seq == held_seq_)) return;
  for (const core::AckHold& h : holds_) {
    if (h.tracker() == b.tracker.get()) {
      held_tracker_ = b.tracker.get();  // alive while held here
      held_seq_ = b.ack_seq;
      return;
    }
  }
  core::AckHold h = b.hold_ack();
  if (!h) return;  // finished already: nothing to keep
  holds_.push_back(std::move(h));
  held_tracker_ = b.tracker.get();
  held_seq_ = b.ack_seq;
}

std::size_t Window::bytes() const {
  std::size_t n = sizeof(*this) + groups_.capacity() * sizeof(Group) + keys_.capacity() +
                  cells_.capacity() * sizeof(Cell) + slots_.capacity() * sizeof(std::uint32_t) +
                  holds_.capacity() * sizeof(core::AckHold);
  for (const Cell& c : cells_) {
    if (c.sketch) n += c.sketch->bytes();
    if (c.distinct) n += c.distinct->bytes();
  }
  return n;
}

}  // namespace bifrost::filters::aggregate
