#include <doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "core/io.h"

using namespace bifrost;

TEST_CASE("write_all writes every byte through short writes, and says how much went out") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  const std::string data(1 << 20, 'x');  // far more than a pipe holds: many short writes
  std::string got;
  std::thread reader([&] {
    char buf[65536];
    ssize_t r;
    while ((r = ::read(p[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(r));
  });
  std::size_t written = 0;
  auto r = core::write_all(p[1], data, &written);
  ::close(p[1]);
  reader.join();
  ::close(p[0]);
  CHECK(r.has_value());
  CHECK(written == data.size());
  CHECK(got == data);
}

TEST_CASE("write_all's failure is the errno, with its message") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  std::size_t written = 1;
  auto r = core::write_all(p[0], "abc", &written);  // the read end: EBADF
  ::close(p[0]);
  ::close(p[1]);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == EBADF);
  CHECK(std::string(r.error().message()) == std::string(std::strerror(EBADF)));
  CHECK(written == 0);
}
