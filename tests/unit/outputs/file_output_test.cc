#include <doctest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "support/components.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"

using namespace bifrost;
using namespace std::chrono_literals;

namespace {

// Whether this process holds `path` open.
bool held_open(const std::string& path) {
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (std::filesystem::read_symlink(fd.path(), ec) == path) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("the file output closes a file not written for idle_timeout on the pipeline's clock") {
  testing::TempDir dir;
  const std::string path = dir / "out.log";
  testing::FakeClock clock;
  auto built = testing::build_output(
      "type: file\n    path: \"" + path + "\"\n    encoding: text\n    idle_timeout: 1h\n    drop_behind: false",
      dir.path(), clock);
  testing::TestBatch batch({"one", "two"}, *built.output);
  CHECK(batch.write(*built.output).count(pipeline::Outcome::kDelivered) == 2);
  CHECK(held_open(path));
  clock.advance(1h);
  built.output->flush();
  CHECK(held_open(path));  // idle for exactly idle_timeout: not yet
  clock.advance(1s);
  built.output->flush();
  CHECK_FALSE(held_open(path));
  std::ifstream in(path);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "one\ntwo\n");
}
