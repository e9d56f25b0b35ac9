#include <doctest.h>

#include <filesystem>
#include <fstream>

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
