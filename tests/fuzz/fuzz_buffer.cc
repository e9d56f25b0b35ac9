// libFuzzer: the disk buffer reading a segment of arbitrary bytes (after its
// magic line): damaged records, torn ends, lengths that lie. Everything must
// come out as events or go to quarantine, and reading must end.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "delivery/disk_buffer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bifrost;
  static const std::string dir = [] {
    char tmpl[] = "/tmp/bifrost-fuzz-buffer-XXXXXX";
    return std::string(::mkdtemp(tmpl));
  }();
  std::filesystem::remove_all(dir + "/buf");
  std::filesystem::remove_all(dir + "/checkpoints");
  std::filesystem::create_directories(dir + "/buf");
  {
    std::ofstream seg(dir + "/buf/00000000000000000001.buf", std::ios::binary);
    seg << "bifrost-buffer2\n";
    seg.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  core::ComponentStats stats;
  delivery::DiskBuffer buffer(dir, "buf", {}, delivery::CheckpointStore(dir, "p", "o.buffer", &stats), &stats);
  buffer.open();
  buffer.close_writer();
  core::Batch batch;
  std::size_t events = 0;
  for (int rounds = 0; !buffer.finished(); ++rounds) {
    if (rounds > 1'000'000) __builtin_trap();  // reading must make progress
    events += buffer.read(batch, 64, std::chrono::milliseconds(0));
    std::string json;
    for (const core::Event& e : batch.events) json.append(e.message);
    batch.events.clear();
    batch.arena.reset();
    buffer.commit(buffer.read_position());
  }
  (void)events;
  return 0;
}
