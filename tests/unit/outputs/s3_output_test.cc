// The s3 output's write path against an S3 server in the process
// (tests/support/fake_s3.h): when events are acknowledged, what a disk that
// refuses writes does, the journal across a restart, multipart uploads.
#include <doctest.h>

#include <httplib.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "config/model.h"
#include "core/batch.h"
#include "core/stats.h"
#include "outputs/s3/journal.h"
#include "pipeline/component.h"
#include "support/fake_s3.h"
#include "support/temp_dir.h"

using namespace bifrost;
using testing::FakeS3;
using testing::FakeSettlement;

namespace {

constexpr std::uint64_t kSourceId = 0x4be0a1c2d3e4f506;
constexpr std::int64_t kT0 = 1'772'359'200'000'000'000;  // 2026-03-01T10:00:00Z

struct Built {
  std::unique_ptr<config::Config> config;
  core::ComponentStats stats;
  std::unique_ptr<pipeline::Output> output;
};

// An s3 output writing text, uncompressed, to `s3` (bucket "bkt", prefix "k/"),
// with `extra` option lines ("    key: value\n").
std::unique_ptr<Built> build_s3(const FakeS3& s3, const std::string& data_dir, FakeSettlement* settlement,
                                const std::string& extra = "") {
  auto b = std::make_unique<Built>();
  config::Diagnostics diag;
  const std::string text =
      "data_dir: " + data_dir +
      "\ninputs: [{id: i, type: stdin}]\noutputs:\n  - id: out\n    type: s3\n    endpoint: " + s3.url() +
      "\n    bucket: bkt\n    path_style: true\n    key: k/\n    encoding: text\n"
      "    compression: none\n    auth: {access_key_id: a, secret_access_key: s}\n" +
      extra;
  b->config = config::load_text("test.yaml", text, diag);
  INFO(diag.render());
  REQUIRE(b->config);
  b->output = b->config->pipelines.at(0).outputs.at(0).spec->build(
      pipeline::BuildContext{"p", "out", data_dir, &b->stats, &core::Clock::system()});
  if (settlement) b->output->settle_with(settlement);
  return b;
}

// One source of events "line <offset>" (offsets 10 apart), batch by batch.
struct Source {
  std::shared_ptr<core::AckTracker> tracker = std::make_shared<core::AckTracker>();
  std::uint64_t next = 0;
  std::string text;  // every line written so far

  pipeline::DeliveryReport write(pipeline::Output& out, core::BatchPool& pool, int n, int width = 40) {
    core::Batch* b = pool.acquire();
    for (int i = 0; i < n; ++i, next += 10) {
      const std::string line = "line " + std::to_string(next) + " " + std::string(static_cast<std::size_t>(width), 'x');
      core::Event& e = b->events.emplace_back();
      e.message = b->arena.copy(line);
      e.offset = next;
      e.timestamp_ns = kT0;
      text += line + "\n";
    }
    b->source_id = kSourceId;
    b->tracker = tracker;
    b->ack_seq = tracker->track(next);
    b->slots.resize(1);
    for (std::uint32_t i = 0; i < b->events.size(); ++i) b->slots[0].selected.push_back(i);
    out.encode(*b, b->slots[0]);
    pipeline::DeliveryReport report;
    report.reset(b->events.size());
    out.write(*b, b->slots[0], report);
    b->release();
    return report;
  }
};

std::string host_part() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("the s3 output acknowledges events only once their object is stored, holding one batch per object") {
  testing::TempDir dir;
  FakeS3 s3;
  FakeSettlement settled;
  auto b = build_s3(s3, dir.path(), &settled);
  core::BatchPool pool(1);
  Source src;
  for (int i = 0; i < 5; ++i) {
    auto report = src.write(*b->output, pool, 100);
    CHECK(report.count(pipeline::Outcome::kHeld) == 100);
  }
  CHECK(src.tracker->acknowledged() == 0);
  CHECK(src.tracker->pending() == 1);  // the object's first batch; the others are finished behind it
  CHECK(s3.objects().empty());
  b->output->close();
  CHECK(src.tracker->acknowledged() == src.next);
  CHECK(settled.delivered_events == 500);
  const auto objects = s3.objects();
  REQUIRE(objects.size() == 1);
  CHECK(objects.begin()->first == "k/" + host_part() + "-4be0a1c2d3e4f506-0-4990.log");
  CHECK(objects.begin()->second == src.text);
}

TEST_CASE("a staging file the disk refuses is written again from where it stopped: nothing lost, nothing early") {
  testing::TempDir dir;
  FakeS3 s3;
  FakeSettlement settled;
  auto b = build_s3(s3, dir.path(), &settled);
  core::BatchPool pool(1);
  Source src;
  src.write(*b->output, pool, 1000);  // 50 KB: still in the object's buffer
  const int fd = testing::fd_of(dir / "s3/p/out/1.obj");
  REQUIRE(fd >= 0);
  auto mend = testing::refuse_writes(fd);
  settled.on_disk_failure = [&] {
    CHECK(src.tracker->acknowledged() == 0);
    mend();
    settled.on_disk_failure = nullptr;
  };
  auto report = src.write(*b->output, pool, 5000);  // 250 KB: the buffer goes to disk, which refuses once
  CHECK(report.count(pipeline::Outcome::kHeld) == 5000);
  CHECK(settled.disk_failures == 1);
  CHECK(b->stats.disk_write_errors.load() == 1);
  b->output->close();
  CHECK(src.tracker->acknowledged() == src.next);
  const auto objects = s3.objects();
  REQUIRE(objects.size() == 1);
  CHECK(objects.begin()->second == src.text);
}

TEST_CASE("a journal that cannot record an object as stored keeps its events unacknowledged; a restart rebuilds it") {
  testing::TempDir dir;
  FakeS3 s3;
  const std::string journal = dir / "s3/p/out/journal";
  std::string first_key;
  {
    FakeSettlement settled;
    settled.disk_tries = 3;  // then delivery is given up (a shutdown)
    auto b = build_s3(s3, dir.path(), &settled, "    max_object_bytes: 1MiB\n");
    core::BatchPool pool(1);
    Source src;
    for (int i = 0; i < 3; ++i) src.write(*b->output, pool, 100);
    std::function<void()> mend;
    s3.hook = [&](const httplib::Request& req) {
      if (req.method == "PUT" && !mend) mend = testing::refuse_writes(testing::fd_of(journal));
      return 0;
    };
    b->output->close();
    REQUIRE(mend);
    mend();
    s3.hook = nullptr;
    CHECK(src.tracker->acknowledged() == 0);  // stored, but `done` is not durable: not acknowledged
    CHECK(settled.delivered_events == 0);
    CHECK(b->stats.disk_write_errors.load() == 3);
    REQUIRE(s3.objects().size() == 1);
    first_key = s3.objects().begin()->first;
  }
  // The restart reads the same events again, in other batches, with a size
  // rule that would cut elsewhere: the journaled cut makes the same object.
  FakeSettlement settled;
  auto b = build_s3(s3, dir.path(), &settled, "    max_object_bytes: 4KiB\n");
  core::BatchPool pool(1);
  Source src;
  src.write(*b->output, pool, 300);
  b->output->close();
  CHECK(src.tracker->acknowledged() == src.next);
  const auto objects = s3.objects();
  REQUIRE(objects.size() == 1);
  CHECK(objects.begin()->first == first_key);
  CHECK(objects.begin()->second == src.text);
}

TEST_CASE("events of an object stored before a restart are acknowledged at once when read again") {
  testing::TempDir dir;
  FakeS3 s3;
  {
    FakeSettlement settled;
    auto b = build_s3(s3, dir.path(), &settled);
    core::BatchPool pool(1);
    Source src;
    src.write(*b->output, pool, 200);
    b->output->close();
  }
  const std::size_t puts = s3.requests().size();
  FakeSettlement settled;
  auto b = build_s3(s3, dir.path(), &settled);
  core::BatchPool pool(1);
  Source src;
  auto report = src.write(*b->output, pool, 200);
  CHECK(report.count(pipeline::Outcome::kDelivered) == 200);
  CHECK(src.tracker->acknowledged() == src.next);
  b->output->close();
  CHECK(s3.requests().size() == puts);
}

TEST_CASE("a multipart upload is journaled before its first part, and one a crash cut short is aborted at start") {
  testing::TempDir dir;
  FakeS3 s3;
  const std::string journal = dir / "s3/p/out/journal";
  bool journaled_before_parts = false;
  s3.hook = [&](const httplib::Request& req) {
    if (req.method == "PUT" && req.has_param("partNumber") && req.get_param_value("partNumber") == "1") {
      journaled_before_parts = slurp(journal).find("U up-1 k%2F") != std::string::npos;
    }
    return 0;
  };
  {
    FakeSettlement settled;
    auto b = build_s3(s3, dir.path(), &settled, "    part_size: 5MiB\n");
    core::BatchPool pool(1);
    Source src;
    for (int i = 0; i < 6; ++i) src.write(*b->output, pool, 10000, 100);  // 6.5 MB
    b->output->close();
    CHECK(src.tracker->acknowledged() == src.next);
    REQUIRE(s3.objects().size() == 1);
    CHECK(s3.objects().begin()->second == src.text);
  }
  s3.hook = nullptr;
  CHECK(journaled_before_parts);
  CHECK(s3.open_uploads() == 0);
  // A crash between the first part and the completion: the upload is left
  // open on the server, and begun in the journal.
  httplib::Client client(s3.url());
  auto created = client.Post("/bkt/k/cut-short.log?uploads=", "", "application/octet-stream");
  REQUIRE(created);
  REQUIRE(s3.open_uploads() == 1);
  {
    auto j = outputs::s3::Journal::open(journal);
    REQUIRE(j);
    REQUIRE((*j)->upload_begun("up-2", "k/cut-short.log"));
  }
  FakeSettlement settled;
  auto b = build_s3(s3, dir.path(), &settled);
  b->output->flush();
  CHECK(s3.open_uploads() == 0);
  CHECK(s3.requests().back().method == "DELETE");
  CHECK(s3.requests().back().target == "/bkt/k/cut-short.log?uploadId=up-2");
  auto j = outputs::s3::Journal::open(journal);
  REQUIRE(j);
  CHECK((*j)->uploads().empty());
}
