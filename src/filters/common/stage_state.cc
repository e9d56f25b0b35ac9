#include "filters/common/stage_state.h"

#include <bit>
#include <cstring>

#include "filters/common/hash.h"

namespace bifrost::filters {

void StateWriter::u64(std::uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out_.append(b, 8);
}

void StateWriter::f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }

void StateWriter::bytes(std::string_view b) {
  u64(b.size());
  out_.append(b);
}

void StateWriter::bytes_in_place(std::string_view b) {
  u64(b.size());
  in_place_.emplace_back(out_.size(), b);
}

std::vector<std::string_view> StateWriter::parts() const {
  std::vector<std::string_view> parts;
  std::size_t from = 0;
  for (const auto& [at, b] : in_place_) {
    parts.emplace_back(out_.data() + from, at - from);
    parts.push_back(b);
    from = at;
  }
  parts.emplace_back(out_.data() + from, out_.size() - from);
  return parts;
}

std::uint64_t StateReader::u64() {
  if (!ok_ || in_.size() < 8) {
    ok_ = false;
    return 0;
  }
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[i])) << (8 * i);
  in_.remove_prefix(8);
  return v;
}

double StateReader::f64() { return std::bit_cast<double>(u64()); }

std::string_view StateReader::bytes() {
  const std::uint64_t n = u64();
  if (!ok_ || n > in_.size()) {
    ok_ = false;
    return {};
  }
  std::string_view b = in_.substr(0, n);
  in_.remove_prefix(n);
  return b;
}

std::uint64_t StateReader::count(std::size_t min_bytes) {
  const std::uint64_t n = u64();
  if (!ok_ || (min_bytes > 0 && n > in_.size() / min_bytes)) {
    ok_ = false;
    return 0;
  }
  return n;
}

std::uint64_t source_key(const core::Batch& b) {
  return b.source_id != 0 ? b.source_id : hash64(b.source, 0x736f75726365ull) | 1;
}

void SourcePositions::note(const core::Batch& b) {
  if (b.events.empty()) return;
  std::uint64_t& last = last_[source_key(b)];
  last = std::max(last, b.events.back().offset);
}

void SourcePositions::encode(StateWriter& w) const {
  w.u64(last_.size());
  for (const auto& [src, off] : last_) {
    w.u64(src);
    w.u64(off);
  }
}

bool SourcePositions::decode(StateReader& r) {
  last_.clear();
  const std::uint64_t n = r.count(16);
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    const std::uint64_t src = r.u64();
    last_[src] = r.u64();
  }
  return r.ok();
}

StateFile::StateFile(const pipeline::BuildContext& ctx, core::Counter* errors, std::string on_corrupt) {
  if (ctx.data_dir.empty()) return;
  store_.emplace(
      delivery::CheckpointStore::stage_state(ctx.data_dir, ctx.pipeline, ctx.component, errors, std::move(on_corrupt)));
}

std::optional<std::string> StateFile::load() {
  if (!store_) return std::nullopt;
  auto body = store_->load();
  if (!body || body->empty()) return std::nullopt;
  return std::move(*body);
}

bool StateFile::save(const StateWriter& body) {
  if (!store_) return false;
  const auto parts = body.parts();
  return store_->save(std::span<const std::string_view>(parts)).has_value();
}

void StateFile::set_aside(std::string_view why) {
  if (store_) store_->set_aside(why);
}

}  // namespace bifrost::filters
