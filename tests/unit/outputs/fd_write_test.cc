#include <doctest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "outputs/common/fd_write.h"
#include "support/temp_dir.h"

using namespace bifrost;
using namespace bifrost::outputs;

namespace {

std::string pattern(std::size_t n, char seed) {
  std::string s(n, ' ');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + static_cast<std::size_t>(seed)) % 26);
  return s;
}

// Pages of `path` in the page cache, one flag each.
std::vector<bool> resident_pages(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  off_t size = ::lseek(fd, 0, SEEK_END);
  void* map = ::mmap(nullptr, static_cast<std::size_t>(size), PROT_READ, MAP_SHARED, fd, 0);
  REQUIRE(map != MAP_FAILED);
  std::vector<unsigned char> vec(static_cast<std::size_t>((size + 4095) / 4096));
  REQUIRE(::mincore(map, static_cast<std::size_t>(size), vec.data()) == 0);
  ::munmap(map, static_cast<std::size_t>(size));
  ::close(fd);
  std::vector<bool> out;
  for (unsigned char c : vec) out.push_back((c & 1) != 0);
  return out;
}

}  // namespace

TEST_CASE("uncached writes: a pipe refuses them and every byte still goes out, plainly") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  std::string got;
  std::thread reader([&] {
    char buf[65536];
    ssize_t r;
    while ((r = ::read(p[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(r));
  });
  const std::string data = pattern(300 << 10, 1);
  UncachedWrites uncached;
  std::size_t written = 0;
  auto wrote = write_all(p[1], data, written, uncached);
  ::close(p[1]);
  reader.join();
  ::close(p[0]);
  CHECK(wrote.has_value());
  CHECK(written == data.size());
  CHECK_FALSE(uncached.supported);
  CHECK(got == data);
}

TEST_CASE(
    "uncached writes to a regular file: the same bytes; whole pages leave the cache, the last partial page stays") {
  testing::TempDir dir("bifrost-fd-write");
  const std::string path = dir / "out.log";
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  REQUIRE(fd >= 0);
  UncachedWrites uncached;
  std::string expected;
  char seed = 0;
  // Small writes (plain), large ones from odd offsets (whole pages uncached, the tail plain).
  for (std::size_t n : {100u, 70000u, 300000u, 5u, 1u << 20, 123457u, 200000u}) {
    std::string data = pattern(n, seed++);
    std::size_t written = 0;
    REQUIRE(write_all(fd, data, written, uncached).has_value());
    CHECK(written == n);
    expected += data;
    uncached.start = ::lseek(fd, 0, SEEK_CUR);
  }
  REQUIRE(::fdatasync(fd) == 0);  // waits for the writeback the uncached writes started
  ::close(fd);
  std::vector<bool> pages = resident_pages(path);  // before reading the file back, which caches it
  std::size_t cached = 0;
  for (bool r : pages) cached += r ? 1 : 0;
  if (uncached.supported) {
    // This kernel and file system take RWF_DONTCACHE (the CI machine's do).
    MESSAGE("uncached writes supported: ", cached, " of ", pages.size(), " pages still cached");
    CHECK(pages.back());  // the partial last page went plainly
    CHECK(cached < pages.size() / 4);
  } else {
    MESSAGE("uncached writes refused here (kernel before 6.14, or the file system): written plainly");
  }
  std::ifstream in(path, std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(got.size() == expected.size());
  CHECK(got == expected);
}
