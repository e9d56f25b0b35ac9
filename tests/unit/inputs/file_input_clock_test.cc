// The file input's timeouts run on the pipeline's clock (BuildContext::clock):
// with a fake one, an hour passes when the test says so, and nothing sleeps.
#include <doctest.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "support/components.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"

using namespace bifrost;
using namespace std::chrono_literals;

namespace {

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// The input's bifrost_files_open, as last published (at its checkpoint, every second of its clock).
std::optional<double> files_open(testing::TestInputContext& ctx) {
  for (const core::Series& s : ctx.stats().series.snapshot()) {
    if (s.family->name == std::string("bifrost_files_open")) return s.value;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("the file input sends an open multiline event once its timeout has passed on the pipeline's clock") {
  testing::TempDir dir;
  write_file(dir / "a.log", "start one\n  more\n");
  testing::FakeClock clock;
  // close_inactive past the multiline timeout: a file closed while idle
  // reads its open event again when it grows, not at the timeout.
  auto built = testing::build_input("type: file\n    paths: [\"" + (dir / "a.log") +
                                        "\"]\n    multiline: {start: '^start', timeout: 1h}\n    close_inactive: 2h",
                                    dir.path(), clock);
  testing::TestInputContext ctx;
  testing::RunningInput running(*built.input, ctx);
  // The first read finds the event still open: its batch goes out empty,
  // and the event waits (an hour of the clock, which does not move).
  REQUIRE(ctx.wait_for([&] { return ctx.published() >= 1; }));
  CHECK(ctx.messages().empty());
  clock.advance(1h);
  REQUIRE(ctx.wait_for([&] { return !ctx.messages().empty(); }));
  CHECK(ctx.messages() == std::vector<std::string>{"start one\n  more"});
}

TEST_CASE("the file input closes a file idle for close_inactive on the pipeline's clock") {
  testing::TempDir dir;
  write_file(dir / "a.log", "x\n");
  testing::FakeClock clock;
  // close_inactive past the multiline timeout: a file closed while idle
  // reads its open event again when it grows, not at the timeout.
  auto built = testing::build_input("type: file\n    paths: [\"" + (dir / "a.log") + "\"]\n    close_inactive: 1h",
                                    dir.path(), clock);
  testing::TestInputContext ctx;
  testing::RunningInput running(*built.input, ctx);
  REQUIRE(ctx.wait_for([&] { return ctx.messages() == std::vector<std::string>{"x"}; }));
  // Read to its end and open (published at the first upkeep, at the clock's start).
  REQUIRE(ctx.wait_for([&] { return files_open(ctx) == 1.0; }));
  clock.advance(1h);
  CHECK(ctx.wait_for([&] { return files_open(ctx) == 0.0; }));
}
