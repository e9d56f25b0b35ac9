#include <doctest.h>

#include <filesystem>
#include <fstream>

#include "core/ack.h"
#include "delivery/checkpoint_follower.h"
#include "delivery/checkpoint_store.h"
#include "support/temp_dir.h"

using namespace bifrost;

TEST_CASE("checkpoint store: save, load, atomic replace") {
  testing::TempDir tmp("bifrost-ckpt");
  const std::string& dir = tmp.path();
  core::ComponentStats stats;
  delivery::CheckpointStore store(dir, "web", "access", &stats);
  auto empty = store.load();
  REQUIRE(empty);
  CHECK(empty->empty());  // no checkpoint yet: the first run
  REQUIRE(store.save("{\"files\":[]}"));
  REQUIRE(store.save("{\"files\":[1]}"));
  auto body = store.load();
  REQUIRE(body);
  CHECK(*body == "{\"files\":[1]}");
  CHECK(store.path() == dir + "/checkpoints/web/access.ckpt");
  CHECK_FALSE(std::filesystem::exists(store.path() + ".tmp"));
  CHECK(stats.checkpoint_duration.count() == 2);
}

TEST_CASE("checkpoint store: a corrupt checkpoint is reported, counted and moved aside") {
  testing::TempDir tmp("bifrost-ckpt");
  const std::string& dir = tmp.path();
  core::ComponentStats stats;
  delivery::CheckpointStore store(dir, "p", "c", &stats);
  auto corrupt_with = [&](const std::string& text) {
    std::ofstream(store.path(), std::ios::trunc) << text;
    auto r = store.load();
    CHECK_FALSE(r);
    CHECK(r.error().code == delivery::Errc::kCorrupt);
    CHECK_FALSE(std::filesystem::exists(store.path()));
  };
  REQUIRE(store.save("body"));
  std::string good;
  {
    std::ifstream f(store.path());
    good.assign(std::istreambuf_iterator<char>(f), {});
  }
  corrupt_with("");                                        // empty
  corrupt_with("garbage\n");                               // no header
  corrupt_with(good.substr(0, good.size() - 1));           // short
  corrupt_with(good.substr(0, good.size() - 4) + "BODY");  // checksum
  std::string v2 = good;
  v2.replace(v2.find(" 1 "), 3, " 2 ");
  corrupt_with(v2);  // a version this build does not know
  CHECK(stats.checkpoint_errors.load() == 5);
  std::size_t aside = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/checkpoints/p")) {
    aside += e.path().filename().string().starts_with("c.ckpt.corrupt-");
  }
  CHECK(aside >= 1);  // same-second names replace each other
}

namespace {

std::string read_all(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void write_all(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::trunc) << text; }

}  // namespace

TEST_CASE("checkpoint store: the live copy, newer than the durable one, is what load() returns") {
  testing::TempDir tmp("bifrost-ckpt");
  core::ComponentStats stats;
  delivery::CheckpointStore store(tmp.path(), "p", "c", &stats);
  REQUIRE(store.save("durable 1"));
  REQUIRE(store.save_live("live 2"));
  REQUIRE(store.save_live("live 3, longer"));
  REQUIRE(store.save_live("live 4"));  // shorter than what its slot held: cut to size
  CHECK(std::filesystem::exists(store.path() + ".live0"));
  CHECK(std::filesystem::exists(store.path() + ".live1"));
  {
    delivery::CheckpointStore again(tmp.path(), "p", "c", &stats);  // a restart after kill -9
    auto body = again.load();
    REQUIRE(body);
    CHECK(*body == "live 4");
    CHECK(again.loaded_from() == store.path() + ".live0");  // 2, 3, 4: live0, live1, live0
    // The next live write goes to the other slot: the copy loaded stays until it is replaced.
    REQUIRE(again.save_live("live 5"));
    CHECK(read_all(store.path() + ".live0").ends_with("live 4"));
    CHECK(read_all(store.path() + ".live1").ends_with("live 5"));
    REQUIRE(again.save("durable 6"));  // newer than every live copy: it wins
    delivery::CheckpointStore third(tmp.path(), "p", "c", &stats);
    CHECK(third.load().value() == "durable 6");
    CHECK(third.loaded_from() == store.path());
  }
  store.drop_live();  // a clean stop
  CHECK_FALSE(std::filesystem::exists(store.path() + ".live0"));
  CHECK_FALSE(std::filesystem::exists(store.path() + ".live1"));
  CHECK(stats.checkpoint_errors.load() == 0);
}

TEST_CASE("checkpoint store: a torn or corrupt live copy falls back to the other live one, then to the durable one") {
  testing::TempDir tmp("bifrost-ckpt");
  core::ComponentStats stats;
  const std::string base = tmp.path() + "/checkpoints/p/c.ckpt";
  auto setup = [&] {
    std::filesystem::remove_all(tmp.path() + "/checkpoints");
    delivery::CheckpointStore store(tmp.path(), "p", "c", &stats);
    REQUIRE(store.save("durable"));
    REQUIRE(store.save_live("live older"));   // .live0
    REQUIRE(store.save_live("live newest"));  // .live1
  };
  auto load = [&] {
    delivery::CheckpointStore store(tmp.path(), "p", "c", &stats);
    auto body = store.load();
    REQUIRE(body);
    return *body;
  };
  setup();
  const std::string newest = read_all(base + ".live1");
  write_all(base + ".live1", newest.substr(0, newest.size() - 3));  // torn: its end never written
  CHECK(load() == "live older");
  setup();
  write_all(base + ".live1", newest.substr(0, newest.size() - 6) + "XXXXXX");  // garbled: checksum
  CHECK(load() == "live older");
  setup();
  write_all(base + ".live1", "");                                    // created, nothing written
  write_all(base + ".live0", "bifrost-checkpoint 1 99 0 7\nshort");  // torn too
  CHECK(load() == "durable");
  setup();
  std::filesystem::remove(base + ".live0");
  std::filesystem::remove(base + ".live1");
  CHECK(load() == "durable");
  // Neither is counted as corrupt state: a torn live copy is what a crash leaves.
  CHECK(stats.checkpoint_errors.load() == 0);
}

TEST_CASE("checkpoint store: a live copy older than the durable one (a power loss) loses to it") {
  testing::TempDir tmp("bifrost-ckpt");
  core::ComponentStats stats;
  {
    delivery::CheckpointStore store(tmp.path(), "p", "c", &stats);
    REQUIRE(store.save_live("live 1"));
    REQUIRE(store.save("durable 2"));
  }
  delivery::CheckpointStore store(tmp.path(), "p", "c", &stats);
  CHECK(store.load().value() == "durable 2");
}

TEST_CASE("checkpoint store: a corrupt durable file is set aside and counted; a valid live copy stands in") {
  testing::TempDir tmp("bifrost-ckpt");
  core::ComponentStats stats;
  {
    delivery::CheckpointStore store(tmp.path(), "p", "c", &stats);
    REQUIRE(store.save("durable"));
    REQUIRE(store.save_live("live"));
  }
  const std::string base = tmp.path() + "/checkpoints/p/c.ckpt";
  write_all(base, "garbage\n");
  delivery::CheckpointStore store(tmp.path(), "p", "c", &stats);
  CHECK(store.load().value() == "live");
  CHECK(stats.checkpoint_errors.load() == 1);
  CHECK_FALSE(std::filesystem::exists(base));
}

TEST_CASE("checkpoint store: a header without a sequence number (an older build's) reads as sequence 0") {
  testing::TempDir tmp("bifrost-ckpt");
  core::ComponentStats stats;
  delivery::CheckpointStore store(tmp.path(), "p", "c", &stats);
  REQUIRE(store.save("x"));
  std::string text = read_all(store.path());
  const std::size_t nl = text.find('\n');
  write_all(store.path(), text.substr(0, text.rfind(' ', nl)) + text.substr(nl));  // drop the fifth field
  CHECK(store.load().value() == "x");
  REQUIRE(store.save_live("live"));  // any sequence number beats an old file's 0
  delivery::CheckpointStore again(tmp.path(), "p", "c", &stats);
  CHECK(again.load().value() == "live");
}

TEST_CASE("checkpoint follower: writes the live copy when an acknowledged position moves, and once more at stop") {
  testing::TempDir tmp("bifrost-ckpt");
  core::ComponentStats stats;
  delivery::CheckpointStore store(tmp.path(), "p", "c", &stats);
  auto progress = std::make_shared<core::AckProgress>();
  auto tracker = std::make_shared<core::AckTracker>(0, progress);
  delivery::CheckpointFollower follower(
      store, progress, core::Clock::system(),
      [&](std::string& out) { out = "acked " + std::to_string(tracker->acknowledged()); }, "c");
  auto a = tracker->track(100);
  auto b = tracker->track(250);
  tracker->complete(a);
  tracker->complete(b);
  follower.stop();  // writes what moved since its last write: nothing is left behind
  CHECK(follower.writes() >= 1);
  delivery::CheckpointStore again(tmp.path(), "p", "c", &stats);
  CHECK(again.load().value() == "acked 250");
}
