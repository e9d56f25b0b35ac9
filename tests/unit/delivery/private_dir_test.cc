#include <doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "delivery/checkpoint_store.h"
#include "delivery/private_dir.h"
#include "support/temp_dir.h"

using namespace bifrost;
namespace fs = std::filesystem;

namespace {
unsigned mode_of(const std::string& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

struct Umask {
  mode_t old;
  explicit Umask(mode_t m) : old(::umask(m)) {}
  ~Umask() { ::umask(old); }
};
}  // namespace

TEST_CASE("data_dir's directories are made 0700 and files 0600 even under umask 0") {
  Umask open_umask(0);
  testing::TempDir tmp;
  const std::string root = tmp / "data";
  std::string error;
  int fd = delivery::open_private_dir(root, "failed/main/out", /*create=*/true, error);
  REQUIRE_MESSAGE(fd >= 0, error);
  ::close(fd);
  for (const char* p : {"", "/failed", "/failed/main", "/failed/main/out"}) CHECK(mode_of(root + p) == 0700);
  int f = delivery::open_private_file(root + "/failed/main/out/x", O_WRONLY | O_CREAT);
  REQUIRE(f >= 0);
  ::close(f);
  CHECK(mode_of(root + "/failed/main/out/x") == 0600);
  delivery::CheckpointStore store(root, "main", "in", nullptr);
  REQUIRE(store.save("{}"));
  CHECK(mode_of(root + "/checkpoints") == 0700);
  CHECK(mode_of(root + "/checkpoints/main/in.ckpt") == 0600);
  REQUIRE(store.save_live("{}"));
  CHECK(mode_of(root + "/checkpoints/main/in.ckpt.live0") == 0600);
}

TEST_CASE("no symlink below data_dir is followed; data_dir itself may be one") {
  testing::TempDir tmp;
  const std::string outside = tmp / "outside";
  fs::create_directories(outside);
  fs::create_directories(tmp / "real-data");
  fs::create_directory_symlink(tmp / "real-data", tmp / "data");  // data_dir on another disk
  const std::string root = tmp / "data";
  std::string error;
  int fd = delivery::open_private_dir(root, "buffers/main/out", true, error);
  REQUIRE_MESSAGE(fd >= 0, error);
  ::close(fd);

  fs::create_directory_symlink(outside, root + "/failed");
  CHECK(delivery::open_private_dir(root, "failed/main/out", true, error) < 0);
  CHECK(error == root + "/failed is a symlink or not a directory: bifrost does not follow links below data_dir");
  CHECK(fs::is_empty(outside));
  CHECK(delivery::open_private_dir(root, "buffers/../failed", true, error) < 0);
  CHECK(error.find("leaves data_dir") != std::string::npos);

  std::ofstream(tmp / "victim") << "keep";
  fs::create_symlink(tmp / "victim", root + "/buffers/main/out/link");
  CHECK(delivery::open_private_file(root + "/buffers/main/out/link", O_WRONLY | O_APPEND) < 0);
  CHECK(errno == ELOOP);

  // A checkpoint planted as a link: not read through, and replaced (not written through).
  fs::create_directories(root + "/checkpoints/main");
  fs::create_symlink(tmp / "victim", root + "/checkpoints/main/in.ckpt");
  delivery::CheckpointStore store(root, "main", "in", nullptr);
  auto loaded = store.load();
  CHECK_FALSE(loaded);
  REQUIRE(store.save("{\"files\":[]}"));
  CHECK_FALSE(fs::is_symlink(root + "/checkpoints/main/in.ckpt"));
  std::ifstream victim(tmp / "victim");
  std::string text((std::istreambuf_iterator<char>(victim)), {});
  CHECK(text == "keep");

  // Nor a live copy planted as a link: passed over when loading, never written through.
  fs::create_symlink(tmp / "victim", root + "/checkpoints/main/in.ckpt.live0");
  fs::create_symlink(tmp / "victim", root + "/checkpoints/main/in.ckpt.live1");
  delivery::CheckpointStore again(root, "main", "in", nullptr);
  auto body = again.load();
  REQUIRE(body);
  CHECK(*body == "{\"files\":[]}");
  CHECK_FALSE(again.save_live("{\"files\":[1]}"));
  std::ifstream victim2(tmp / "victim");
  CHECK(std::string((std::istreambuf_iterator<char>(victim2)), {}) == "keep");
}
