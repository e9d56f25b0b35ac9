#include <doctest.h>

#include <string>

#include "core/json.h"
#include "inputs/journald/entry.h"
#include "inputs/journald/state.h"

using namespace bifrost;
using namespace bifrost::inputs::journald;

TEST_CASE("journald: an entry's fields take their ECS names, the rest go under journald.") {
  core::BatchPool pool(1);
  core::Batch* b = pool.acquire();
  core::Event& e = b->events.emplace_back();
  EntryBuilder entry(*b, e);
  entry.field("MESSAGE", "hello");
  entry.field("_SYSTEMD_UNIT", "nginx.service");
  entry.field("_PID", "42");
  entry.field("_COMM", "nginx");
  entry.field("PRIORITY", "3");
  entry.field("SYSLOG_FACILITY", "3");
  entry.field("SYSLOG_IDENTIFIER", "nginx");
  entry.field("_HOSTNAME", "web1");
  entry.field("_BOOT_ID", "b00t");
  entry.field("CODE_FILE", "x.c");
  entry.field("_PID_NOT", "y");
  entry.finish(1'700'000'000'000'000);
  std::string out;
  core::Rfc3339Cache cache;
  core::append_event_json(out, e, cache);
  CHECK(out == R"({"@timestamp":"2023-11-14T22:13:20.000000000Z","message":"hello","systemd":{"unit":"nginx.service"},)"
               R"("process":{"pid":42,"name":"nginx"},"log":{"syslog":{"priority":3,"facility":{"code":3},)"
               R"("appname":"nginx"}},"host":{"hostname":"web1"},"journald":{"_BOOT_ID":"b00t","CODE_FILE":"x.c",)"
               R"("_PID_NOT":"y"}})");
  b->release();
}

TEST_CASE("journald: the source's own time wins over the journal's receive time; a _PID that is no number stays") {
  core::BatchPool pool(1);
  core::Batch* b = pool.acquire();
  core::Event& e = b->events.emplace_back();
  EntryBuilder entry(*b, e);
  entry.field("_SOURCE_REALTIME_TIMESTAMP", "1600000000000001");
  entry.field("_PID", "abc");
  entry.finish(1'700'000'000'000'000);
  CHECK(e.timestamp_ns == 1'600'000'000'000'001'000);
  std::string out;
  core::Rfc3339Cache cache;
  core::append_event_json(out, e, cache);
  CHECK(out.find(R"("journald":{"_SOURCE_REALTIME_TIMESTAMP":"1600000000000001","_PID":"abc"})") != std::string::npos);
  b->release();
}

TEST_CASE("journald: the checkpoint body holds the cursor; a broken one says what is wrong") {
  const std::string cursor = "s=abc;i=3;b=def;m=3ea;t=60a24181e47d0;x=8b29";
  auto back = decode_state(encode_state(cursor));
  REQUIRE(back);
  CHECK(*back == cursor);
  CHECK(decode_state("") == std::string());
  CHECK_FALSE(decode_state("{\"cursor\":1}"));
  CHECK_FALSE(decode_state("not json"));
}
