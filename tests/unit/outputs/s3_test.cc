#include <doctest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "outputs/s3/journal.h"
#include "outputs/s3/object_file.h"
#include "outputs/s3/request.h"
#include "outputs/s3/s3_error.h"
#include "support/temp_dir.h"

using namespace bifrost::outputs::s3;

TEST_CASE("s3 keys and queries are percent-encoded as SigV4 canonicalizes them") {
  CHECK(uri_encode("logs/app=web/dt=2026-03-01/a b+c~_.-", true) == "logs/app%3Dweb/dt%3D2026-03-01/a%20b%2Bc~_.-");
  CHECK(uri_encode("a/b", false) == "a%2Fb");
  CHECK(uri_encode("\xc3\xa9", true) == "%C3%A9");
  Target path("http://127.0.0.1:9000", "us-east-1", "logs", true);
  CHECK(path.url("k/x=1.gz", "uploads=") == "http://127.0.0.1:9000/logs/k/x%3D1.gz?uploads=");
  Target aws("", "eu-west-1", "logs", false);
  CHECK(aws.url("a.gz") == "https://logs.s3.eu-west-1.amazonaws.com/a.gz");
}

TEST_CASE("the payload hash is SHA-256 in lowercase hex") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("s3 errors are read from their XML, garbage gives a reason too, and only some are retried") {
  const std::string body =
      "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The bucket &quot;x&quot; does not "
      "exist</Message></Error>";
  S3Failure f = judge_status(404, body);
  CHECK_FALSE(f.transient);
  CHECK(f.reason == "S3 NoSuchBucket: The bucket \"x\" does not exist (HTTP 404)");
  CHECK(judge_status(503, "<Error><Code>SlowDown</Code></Error>").transient);
  CHECK(judge_status(400, "<Error><Code>RequestTimeout</Code></Error>").transient);
  CHECK_FALSE(judge_status(403, "<Error><Code>AccessDenied</Code></Error>").transient);
  S3Failure g = judge_status(403, std::string("\x01\x02<Code>unclosed", 15));
  CHECK_FALSE(g.transient);
  CHECK(g.reason.rfind("HTTP 403: ", 0) == 0);
  CHECK(xml_text("<a><UploadId>abc-1</UploadId></a>", "UploadId") == "abc-1");
  CHECK(xml_text("<UploadId>never closed", "UploadId").empty());
}

TEST_CASE("an object file reads back what was appended, gzip, zstd and uncompressed") {
  bifrost::testing::TempDir dir;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i) + " some text to compress\n";
  for (Compression c : {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
    auto f = ObjectFile::create(dir / "o", c);
    REQUIRE(f);
    for (std::size_t at = 0; at < text.size(); at += 7777)
      REQUIRE((*f)->append(std::string_view(text).substr(at, 7777)));
    REQUIRE((*f)->finish());
    if (c != Compression::kNone) CHECK((*f)->disk_bytes() < text.size() / 3);
    std::string back;
    REQUIRE(read_object(dir / "o", c, [&](std::string_view chunk) { back.append(chunk); }));
    CHECK(back == text);
  }
}

TEST_CASE("a truncated object file is reported corrupt, not read as if whole") {
  bifrost::testing::TempDir dir;
  auto f = ObjectFile::create(dir / "o", Compression::kGzip);
  REQUIRE(f);
  std::string text(100000, 'x');
  REQUIRE((*f)->append(text));
  REQUIRE((*f)->finish());
  std::filesystem::resize_file(dir / "o", 40);
  auto r = read_object(dir / "o", Compression::kGzip, [](std::string_view) {});
  CHECK_FALSE(r);
}

TEST_CASE("the journal keeps cuts until done, survives a reopen, and ignores a torn last line") {
  bifrost::testing::TempDir dir;
  {
    auto j = Journal::open(dir / "journal");
    REQUIRE(j);
    REQUIRE((*j)->cut("0123abcd", "dt=2026-03-01/", {0, 99}));
    REQUIRE((*j)->done("0123abcd", "dt=2026-03-01/", 99));
    REQUIRE((*j)->cut("0123abcd", "dt=2026-03-01/", {100, 180}));
    REQUIRE((*j)->cut("other", "a b/", {5, 6}));
  }
  {
    FILE* f = std::fopen((dir / "journal").c_str(), "a");
    std::fputs("D 180 0123abcd dt%3D2026", f);  // torn: no newline
    std::fclose(f);
  }
  auto j = Journal::open(dir / "journal");
  REQUIRE(j);
  const PartitionLog* p = (*j)->find("0123abcd", "dt=2026-03-01/");
  REQUIRE(p);
  CHECK(p->done == 99u);
  REQUIRE(p->cuts.size() == 1);
  CHECK(p->cuts.front().first == 100);
  CHECK(p->cuts.front().last == 180);
  REQUIRE((*j)->find("other", "a b/"));
  CHECK((*j)->find("other", "a b") == nullptr);
  // Settled partitions can be dropped; one with a cut pending never is.
  REQUIRE((*j)->done("0123abcd", "dt=2026-03-01/", 180));
  REQUIRE((*j)->compact([](std::string_view, const PartitionLog&) { return true; }));
  CHECK((*j)->find("0123abcd", "dt=2026-03-01/") == nullptr);
  CHECK((*j)->find("other", "a b/") != nullptr);
}
