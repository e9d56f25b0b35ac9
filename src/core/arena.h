// Monotonic bump allocator owned by one Batch. Memory is handed out in
// blocks and released all at once by reset(), which keeps the blocks for
// the next use of the batch: after warm-up a batch allocates nothing.
// Not thread-safe: a batch is worked on by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace bifrost::core {

class Arena {
 public:
  static constexpr std::size_t kBlockBytes = 64 * 1024;

  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  void* allocate(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
    std::uintptr_t p = (reinterpret_cast<std::uintptr_t>(cur_) + align - 1) & ~(align - 1);
    if (cur_ == nullptr || p + bytes > reinterpret_cast<std::uintptr_t>(end_)) {
      return allocate_slow(bytes, align);
    }
    cur_ = reinterpret_cast<char*>(p + bytes);
    return reinterpret_cast<void*>(p);
  }

  template <class T>
  T* allocate_array(std::size_t n) {
    return static_cast<T*>(allocate(sizeof(T) * n, alignof(T)));
  }

  std::string_view copy(std::string_view s) {
    if (s.empty()) return {};
    char* p = static_cast<char*>(allocate(s.size(), 1));
    std::memcpy(p, s.data(), s.size());
    return {p, s.size()};
  }

  // Forgets every allocation; keeps the standard-size blocks for reuse and
  // frees oversized ones, so one huge event does not pin its memory forever.
  void reset();

 private:
  void* allocate_slow(std::size_t bytes, std::size_t align);

  struct Block {
    std::unique_ptr<char[]> data;
    std::size_t size;
  };
  std::vector<Block> blocks_;
  std::size_t next_block_ = 0;  // blocks_[next_block_] is the one after cur_'s
  char* cur_ = nullptr;
  char* end_ = nullptr;
};

}  // namespace bifrost::core
