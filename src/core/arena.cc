#include "core/arena.h"

#include <algorithm>

namespace bifrost::core {

void* Arena::allocate_slow(std::size_t bytes, std::size_t align) {
  std::size_t need = bytes + align;
  // Reuse a kept block when it is large enough.
  while (next_block_ < blocks_.size()) {
    Block& b = blocks_[next_block_++];
    if (b.size >= need) {
      cur_ = b.data.get();
      end_ = cur_ + b.size;
      return allocate(bytes, align);
    }
  }
  std::size_t size = std::max(kBlockBytes, need);
  // new[] rather than make_unique: the block is written before it is read,
  // so zeroing it would be wasted work.
  blocks_.push_back(Block{std::unique_ptr<char[]>(new char[size]), size});
  next_block_ = blocks_.size();
  cur_ = blocks_.back().data.get();
  end_ = cur_ + size;
  return allocate(bytes, align);
}

void Arena::reset() {
  // Keep at most a few standard blocks; drop the oversized ones.
  constexpr std::size_t kKeep = 16;
  std::erase_if(blocks_, [](const Block& b) { return b.size > kBlockBytes; });
  if (blocks_.size() > kKeep) blocks_.resize(kKeep);
  next_block_ = 0;
  cur_ = end_ = nullptr;
}

}  // namespace bifrost::core
