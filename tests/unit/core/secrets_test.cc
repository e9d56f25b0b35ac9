#include <doctest.h>

#include <vector>

#include "core/log.h"
#include "core/secrets.h"
#include "support/temp_dir.h"

#include <sys/stat.h>
#include <fstream>

using namespace bifrost;
namespace secrets = core::secrets;

namespace {
struct ForgetSecrets {
  ~ForgetSecrets() {
    secrets::clear_for_tests();
    core::log::set_sink(nullptr);
  }
};
}  // namespace

TEST_CASE("every registered secret is masked in a text, the longest first, short ones not at all") {
  ForgetSecrets forget;
  secrets::add("hunter2-password");
  secrets::add("hunter2");
  secrets::add("abc");  // too short to mask without mangling every line
  CHECK(secrets::masked("user hunter2-password and hunter2, abc") == "user *** and ***, abc");
  CHECK(secrets::masked("nothing here") == "nothing here");
  std::string twice = "hunter2hunter2";
  secrets::mask(twice);
  CHECK(twice == "******");
}

TEST_CASE("the log never writes a registered secret, whoever wrote the line") {
  ForgetSecrets forget;
  std::vector<std::string> lines;
  core::log::set_sink([&](std::string_view l) { lines.emplace_back(l); });
  secrets::add("s3cr3t-token-value");
  core::log::error("out", "HTTP 401: unauthorized (got: Bearer s3cr3t-token-value)");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("s3cr3t") == std::string::npos);
  CHECK(lines[0].find("got: Bearer ***") != std::string::npos);
}

TEST_CASE("a token is compared in a time that depends only on the expected one's length") {
  CHECK(secrets::constant_time_equal("token-1", "token-1"));
  CHECK_FALSE(secrets::constant_time_equal("token-2", "token-1"));
  CHECK_FALSE(secrets::constant_time_equal("token-1x", "token-1"));
  CHECK_FALSE(secrets::constant_time_equal("token", "token-1"));
  CHECK_FALSE(secrets::constant_time_equal("", "token-1"));
  CHECK(secrets::constant_time_equal("", ""));
}

TEST_CASE("base64 is Authorization: Basic's") {
  CHECK(secrets::base64("") == "");
  CHECK(secrets::base64("f") == "Zg==");
  CHECK(secrets::base64("fo") == "Zm8=");
  CHECK(secrets::base64("foo") == "Zm9v");
  CHECK(secrets::base64("elastic:changeme") == "ZWxhc3RpYzpjaGFuZ2VtZQ==");
}

TEST_CASE("a secret file is read without its trailing newline, registered, and its mode reported") {
  ForgetSecrets forget;
  testing::TempDir dir;
  const std::string path = dir / "secret";
  std::ofstream(path) << "file-secret-value\n";
  ::chmod(path.c_str(), 0644);
  std::string value, error;
  REQUIRE(secrets::read_file(path, value, error));
  CHECK(value == "file-secret-value");
  CHECK(secrets::masked("x file-secret-value") == "x ***");
  unsigned mode = 0;
  CHECK(secrets::readable_by_others(path, mode));
  CHECK(mode == 0644);
  ::chmod(path.c_str(), 0640);
  CHECK_FALSE(secrets::readable_by_others(path, mode));
  CHECK_FALSE(secrets::read_file(dir / "missing", value, error));
  CHECK(error == "cannot read " + (dir / "missing") + ": No such file or directory");
  std::ofstream(dir / "empty") << "\n";
  CHECK_FALSE(secrets::read_file(dir / "empty", value, error));
  CHECK(error.find("is empty") != std::string::npos);
}
