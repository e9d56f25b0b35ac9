#include <doctest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "outputs/s3/journal.h"
#include "outputs/s3/object_file.h"
#include "outputs/s3/request.h"
#include "outputs/s3/s3_error.h"
#include "support/fake_s3.h"
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
      REQUIRE((*f)->append(std::string_view(text).substr(at, 7777), nullptr));
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
  REQUIRE((*f)->append(text, nullptr));
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

TEST_CASE("an object file the disk refuses keeps its stream whole, and goes on where it stopped") {
  bifrost::testing::TempDir dir;
  std::string text;
  for (int i = 0; i < 30000; ++i)
    text += "line " + std::to_string(i) + " some text to compress " + std::to_string(i * 7919) + "\n";
  for (Compression c : {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
    auto f = ObjectFile::create(dir / "o", c);
    REQUIRE(f);
    std::string_view rest = text;
    std::size_t taken = 0;
    REQUIRE((*f)->append(rest.substr(0, 1000), &taken));
    CHECK(taken == 1000);
    rest.remove_prefix(1000);
    auto mend = bifrost::testing::refuse_writes(bifrost::testing::fd_of(dir / "o"));
    auto r = (*f)->append(rest, &taken);
    CHECK_FALSE(r);  // the buffer filled and the disk said no
    CHECK(taken < rest.size());
    rest.remove_prefix(taken);
    CHECK_FALSE((*f)->append(rest, &taken));  // still full: nothing more goes in
    CHECK(taken == 0);
    mend();
    REQUIRE((*f)->append(rest, &taken));
    CHECK(taken == rest.size());
    mend = bifrost::testing::refuse_writes(bifrost::testing::fd_of(dir / "o"));
    CHECK_FALSE((*f)->finish());
    mend();
    REQUIRE((*f)->finish());
    std::string back;
    REQUIRE(read_object(dir / "o", c, [&](std::string_view chunk) { back.append(chunk); }));
    CHECK(back == text);
  }
}

TEST_CASE(
    "a journal record the disk refuses is not kept; written again it is read back once, and garbled lines are not") {
  bifrost::testing::TempDir dir;
  {
    auto j = Journal::open(dir / "journal");
    REQUIRE(j);
    REQUIRE((*j)->cut("s", "p/", {0, 9}));
    auto mend = bifrost::testing::refuse_writes(bifrost::testing::fd_of(dir / "journal"));
    CHECK_FALSE((*j)->done("s", "p/", 9));
    CHECK_FALSE((*j)->find("s", "p/")->done);  // not durable: not known
    CHECK_FALSE((*j)->upload_begun("id-1", "p/x.gz"));
    CHECK((*j)->uploads().empty());
    mend();
    REQUIRE((*j)->done("s", "p/", 9));
    REQUIRE((*j)->cut("s", "p/", {10, 19}));
    REQUIRE((*j)->cut("s", "p/", {10, 19}));  // twice: the same
    REQUIRE((*j)->upload_begun("id-1", "p/x.gz"));
    REQUIRE((*j)->upload_begun("id-2", "p/y.gz"));
    REQUIRE((*j)->upload_ended("id-1"));
  }
  {
    FILE* f = std::fopen((dir / "journal").c_str(), "a");
    std::fputs("D 19 s p%2F 00000000\n", f);  // a CRC that does not match
    std::fputs("C 20 29 s p%2F\n", f);        // none at all
    std::fclose(f);
  }
  auto j = Journal::open(dir / "journal");
  REQUIRE(j);
  const PartitionLog* p = (*j)->find("s", "p/");
  REQUIRE(p);
  CHECK(p->done == 9u);
  REQUIRE(p->cuts.size() == 1);
  CHECK(p->cuts.front() == Cut{10, 19});
  REQUIRE((*j)->uploads().size() == 1);
  CHECK((*j)->uploads().begin()->first == "id-2");
  CHECK((*j)->uploads().begin()->second == "p/y.gz");
}

TEST_CASE("a journal's text reads back the same once written out compact") {
  const std::string text = render_journal(parse_journal("", 0));
  CHECK(text.empty());
  JournalState s;
  s.logs[journal_key("src", "a b/%x")].done = 41;
  s.logs[journal_key("src", "a b/%x")].cuts = {{42, 50}, {51, 77}};
  s.uploads["2~x y"] = "k/\xc3\xa9.gz";
  const JournalState back = parse_journal(render_journal(s), 0);
  REQUIRE(back.logs.size() == 1);
  CHECK(back.logs.begin()->first == journal_key("src", "a b/%x"));
  CHECK(back.logs.begin()->second.done == 41u);
  CHECK(back.logs.begin()->second.cuts == s.logs.begin()->second.cuts);
  CHECK(back.uploads == s.uploads);
}
