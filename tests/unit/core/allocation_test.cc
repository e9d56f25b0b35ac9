// Counts heap allocations to check the claim that a warm batch moves
// through splitting, decoration, routing and encoding without allocating.
#include <doctest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include <fcntl.h>
#include <unistd.h>

#include "config/model.h"
#include "config/registry.h"
#include "core/io.h"
#include "delivery/buffer_record.h"
#include "filters/parse_regex/compiled_pattern.h"
#include "inputs/common/framing.h"
#include "inputs/common/line_splitter.h"
#include "inputs/common/peers.h"
#include "inputs/syslog/fields.h"
#include "inputs/tcp/tcp_input.h"
#include "outputs/common/codec.h"
#include "support/fake_s3.h"
#include "support/stages.h"
#include "support/temp_dir.h"

namespace {
std::atomic<long> g_allocations{0};
}

// The whole family is replaced, so that every allocation is counted and
// every pair of new and delete agrees (sanitizers check that). g++ 12,
// inlining std::allocator's deallocate into these, sees a free() of what it
// takes for operator new's memory and warns; here both are malloc's.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
void* counted(std::size_t n, std::size_t align = 0) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  if (align > alignof(std::max_align_t)) return std::aligned_alloc(align, (n + align - 1) / align * align);
  return std::malloc(n);
}
}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = counted(n, static_cast<std::size_t>(a))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
  if (void* p = counted(n, static_cast<std::size_t>(a))) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace bifrost;

TEST_CASE("a warm batch is split, decorated, filtered, routed and encoded without a heap allocation") {
  config::Diagnostics diag;
  auto cfg = config::load_text("t.yaml", R"(inputs: [{id: in, type: stdin}]
filters:
  - {id: m, type: modify, add: {env: prod, n: 1, j: '{"a":1,"b":[true,"x"],"c":{"d":2.5}}'}}
  - {id: d, type: drop, when: 'message =~ "^DEBUG"'}
  - {id: r, type: parse_regex, pattern: '^(?P<verb>[A-Z]+) (?P<path>\S+?)\?id=(?P<id>\d+)', types: {id: int}}
  - {id: p, type: parse_json, field: j, target: parsed}
  - {id: f, type: parse_regex, pattern: '^(?P<verb>[A-Z]+) (?P<file>[^?]+)\?id=(?P<n>\d+)', types: {n: int}}
  - {id: e, type: parse_regex, engine: re2, pattern: '^(?P<verb>[A-Z]+) (?P<path>\S+?)\?id=(?P<id>\d+)'}
outputs: [{id: out, type: stdout}]
)",
                               diag);
  REQUIRE(cfg);
  auto& pc = cfg->pipelines[0];
  auto input = pc.inputs[0].spec->build({"main", "in", "/tmp"});
  auto modify = pc.filters[0].spec->build({"main", "m", "/tmp"});
  auto drop = pc.filters[1].spec->build({"main", "d", "/tmp"});
  auto regex = pc.filters[2].spec->build({"main", "r", "/tmp"});
  auto json = pc.filters[3].spec->build({"main", "p", "/tmp"});
  auto fast_regex = pc.filters[4].spec->build({"main", "f", "/tmp"});
  auto re2_regex = pc.filters[5].spec->build({"main", "e", "/tmp"});
  {  // which engines the three parse_regex stages run on
    std::string error;
    std::size_t offset = 0;
    using filters::parse_regex::CompiledPattern;
    using filters::parse_regex::EngineChoice;
    auto pcre2 = CompiledPattern::compile(R"(^(?P<verb>[A-Z]+) (?P<path>\S+?)\?id=(?P<id>\d+))", EngineChoice::kAuto,
                                          error, offset);
    auto one_pass = CompiledPattern::compile(R"(^(?P<verb>[A-Z]+) (?P<file>[^?]+)\?id=(?P<n>\d+))", EngineChoice::kAuto,
                                             error, offset);
    REQUIRE(pcre2);
    REQUIRE(one_pass);
    CHECK(pcre2->engine_name() == "pcre2-jit");
    CHECK(one_pass->engine_name() == "one-pass");
  }
  auto output = pc.outputs[0].spec->build({"main", "out", "/tmp"});
  const expr::Condition& drop_when = *pc.filters[1].when;

  std::string data;
  for (int i = 0; i < 1000; ++i) {
    // Half the lines are not UTF-8: PCRE2 matches those without its JIT.
    data += (i % 10 == 0 ? "DEBUG " : "GET /index.html?id=") + std::to_string(i) + " \"quoted\" " +
            (i % 2 == 0 ? "\xff" : "caf\xc3\xa9") + "\n";
  }
  inputs::LineSplitter splitter;
  splitter.configure(1 << 20, 4096);
  core::BatchPool pool(1);
  std::vector<std::uint32_t> sel;
  sel.reserve(4096);

  long regex_allocations = 0, json_allocations = 0, fast_regex_allocations = 0, re2_allocations = 0;
  auto one_pass = [&] {
    core::Batch* b = pool.acquire();
    splitter.begin(*b, data.size());
    std::memcpy(splitter.write_ptr(*b), data.data(), data.size());
    splitter.commit(*b, data.size());
    splitter.finish(*b, false);
    input->decorate(*b);
    sel.clear();
    for (std::uint32_t i = 0; i < b->events.size(); ++i) sel.push_back(i);
    modify->process(*b, sel);
    sel.clear();
    for (std::uint32_t i = 0; i < b->events.size(); ++i) {
      if (drop_when.evaluate(b->events[i])) sel.push_back(i);
    }
    drop->process(*b, sel);
    sel.clear();
    for (std::uint32_t i = 0; i < b->events.size(); ++i) {
      if (!b->events[i].dropped()) sel.push_back(i);
    }
    // Measured apart: see the checks below.
    long a0 = g_allocations.load();
    regex->process(*b, sel);
    long a1 = g_allocations.load();
    json->process(*b, sel);
    long a2 = g_allocations.load();
    fast_regex->process(*b, sel);
    long a3 = g_allocations.load();
    re2_regex->process(*b, sel);
    regex_allocations = a1 - a0;
    json_allocations = a2 - a1;
    fast_regex_allocations = a3 - a2;
    re2_allocations = g_allocations.load() - a3;
    if (b->slots.size() != 1) b->slots.resize(1);
    for (std::uint32_t i = 0; i < b->events.size(); ++i) {
      if (!b->events[i].dropped()) b->slots[0].selected.push_back(i);
    }
    output->encode(*b, b->slots[0]);
    std::size_t events = b->events.size(), routed = b->slots[0].selected.size();
    b->release();
    return std::pair(events, routed);
  };

  long cold = g_allocations.load();
  one_pass();                          // warm: buffers, arena blocks and vectors reach their size
  CHECK(g_allocations.load() > cold);  // the counter sees allocations when there are some
  one_pass();
  long before = g_allocations.load();
  auto [events, routed] = one_pass();
  long allocations =
      g_allocations.load() - before - regex_allocations - json_allocations - fast_regex_allocations - re2_allocations;
  CHECK(events == 1000);
  CHECK(routed == 900);
  CHECK(allocations == 0);  // splitting, decoration, modify, drop, routing, encoding
  // parse_json: nothing per event (a few per batch inside simdjson).
  CHECK(json_allocations < 16);
  // parse_regex on PCRE2 (a lazy quantifier keeps this pattern off the
  // one-pass matcher), with its JIT for the UTF-8 lines and without it for
  // the others: nothing per event (the match data, match context and JIT
  // stack are per thread, made in the warm-up; at most one arena block past
  // the 16 an arena keeps, which this batch's fields fill).
  CHECK(regex_allocations <= 1);
  // On bifrost's one-pass matcher (linear_pattern.h), which nginx-style
  // patterns take, the benchmark's included: nothing per event either.
  CHECK(fast_regex_allocations <= 1);
  // `engine: re2`: RE2 allocates its capture engine's work arrays on every
  // search with submatches when the pattern is not one-pass in its sense,
  // 3 per match here; a known cost of RE2, bounded per event. (RE2 runs as
  // the fallback only for lines past PCRE2's match limits.)
  CHECK(re2_allocations <= 3 * 900);
}

TEST_CASE("a result allocates nothing on success, nor for a failure that carries no message") {
  int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  const std::string record(64, 'x');
  long ok = 0;
  long before = g_allocations.load();
  for (int i = 0; i < 1000; ++i) {
    ok += bifrost::core::write_all(fd, record).has_value();
    auto header = bifrost::delivery::read_record_header(record);
    ok += header && header->length == 0x78787878;
    ok += !bifrost::delivery::read_record_header(std::string_view(record).substr(0, 4));  // kShort: no message
  }
  long allocations = g_allocations.load() - before;
  ::close(fd);
  CHECK(ok == 3000);
  CHECK(allocations == 0);
}

TEST_CASE("the aggregate stage counts a warm batch into its windows without a heap allocation") {
  auto built = testing::build_stage(R"(type: aggregate
    window: 1m
    group_by: [status, method]
    metrics:
      requests: count
      bytes: {sum: bytes}
      low: {min: latency}
      high: {max: latency}
      mean: {avg: latency}
      p99: {percentile: latency, q: 0.99}
      users: {count_distinct: user}
      hosts: {count_distinct: host})");
  testing::FakeStageContext ctx;
  built.stage->start(ctx);
  core::BatchPool pool(1);
  constexpr std::int64_t kT0 = 1'700'000'040'000'000'000;
  const char* users[] = {"alice", "bob", "carol", "dave", "erin", "frank", "grace"};
  auto one_pass = [&] {
    testing::InputBatch b(pool, nullptr);
    for (int i = 0; i < 1000; ++i) {
      core::Event& e = b.add(kT0 + std::int64_t{i % 50} * 1'000'000'000, static_cast<std::uint64_t>(i));
      b.set(e, "status", core::Value::integer(200 + i % 5));
      b.set(e, "method", b.str(i % 2 ? "GET" : "POST"));
      b.set(e, "bytes", core::Value::integer(i));
      b.set(e, "latency", core::Value::number(0.5 + i % 37));
      b.set(e, "user", b.str(users[i % 7]));
      b.set(e, "host", b.str(i % 3 ? "a" : "b"));
    }
    auto sel = b.all();
    long before = g_allocations.load();
    built.stage->process(*b, sel, ctx);
    return g_allocations.load() - before;
  };
  CHECK(one_pass() > 0);  // new groups, cells, sketches
  one_pass();
  CHECK(one_pass() == 0);
  CHECK(ctx.emitted.empty());  // all in one open window
}

TEST_CASE(
    "the s3 output encodes a warm batch and writes it into its object filling on disk without a heap allocation") {
  testing::TempDir dir;
  config::Diagnostics diag;
  auto cfg = config::load_text("t.yaml", "data_dir: " + dir.path() + R"(
inputs: [{id: in, type: stdin}]
outputs:
  - id: out
    type: s3
    endpoint: http://127.0.0.1:9
    bucket: logs
    path_style: true
    key: "app={{app}}/dt=%Y-%m-%d/hour=%H/"
    compression: gzip
    auth: {access_key_id: a, secret_access_key: s}
)",
                               diag);
  REQUIRE(cfg);
  auto output = cfg->pipelines[0].outputs[0].spec->build({"main", "out", dir.path()});
  testing::FakeSettlement settlement;  // nothing is settled: every object stays open (64MiB, 10m)
  output->settle_with(&settlement);
  auto tracker = std::make_shared<core::AckTracker>();
  core::BatchPool pool(1);
  std::uint64_t offset = 0;
  pipeline::DeliveryReport report;
  auto one_pass = [&] {
    core::Batch* b = pool.acquire();
    for (int i = 0; i < 1000; ++i, offset += 100) {
      core::Event& e = b->events.emplace_back();
      e.message = "GET /index.html 200 0.004 \"Mozilla/5.0\"";
      e.offset = offset;
      e.timestamp_ns = 1'772'359'200'000'000'000 + std::int64_t{i} * 1'000'000;
      core::set_field(e, *core::FieldPath::parse("app"), core::Value::string(i % 3 ? "web" : "api"), b->arena);
    }
    b->source_id = 0x4be0a1c2d3e4f506;
    b->tracker = tracker;
    b->ack_seq = tracker->track(offset);
    if (b->slots.size() != 1) b->slots.resize(1);
    for (std::uint32_t i = 0; i < b->events.size(); ++i) b->slots[0].selected.push_back(i);
    long before = g_allocations.load();
    output->encode(*b, b->slots[0]);
    report.reset(b->slots[0].selected.size());
    output->write(*b, b->slots[0], report);
    long allocations = g_allocations.load() - before;
    CHECK(report.count(pipeline::Outcome::kHeld) == 1000);
    b->release();
    return allocations;
  };
  CHECK(one_pass() > 0);  // two objects: their files, compressors, holds
  one_pass();
  CHECK(one_pass() == 0);
  CHECK(tracker->acknowledged() == 0);  // held by the objects
}

TEST_CASE(
    "a warm batch of line protocol is expanded by parse_influx and passed through to InfluxDB without a heap "
    "allocation") {
  config::Diagnostics diag;
  auto cfg = config::load_text("t.yaml", R"(inputs: [{id: in, type: stdin}]
filters: [{id: lp, type: parse_influx, max_past: 3650d, max_future: 3650d}]
outputs: [{id: out, type: influxdb, url: "http://127.0.0.1:1", database: db, max_past: 3650d}]
)",
                               diag);
  REQUIRE(cfg);
  auto& pc = cfg->pipelines[0];
  auto filter = pc.filters[0].spec->build({"main", "lp", "/tmp"});
  auto output = pc.outputs[0].spec->build({"main", "out", "/tmp"});
  // Records as Telegraf's Kafka output writes them: 5 points each, one with
  // escapes, one without a time; each record's event has Kafka metadata.
  std::vector<std::string> records;
  for (int r = 0; r < 200; ++r) {
    const std::string t = std::to_string(1'795'000'000'000'000'000LL + r * 1000);
    records.push_back("cpu,cpu=cpu0,host=web-" + std::to_string(r % 7) + " usage_idle=98.5,usage_user=1.25 " + t +
                      "\nmem,host=web-1 used=" + std::to_string(r) + "i,free=12u,ok=true " + t +
                      "\ndisk,host=web\\ 1,path=C:\\data used_percent=12.5,label=\"a \\\"b\\\" c\" " + t +
                      "\nsystem,host=web-1 load1=0.5,n_cpus=4i\nnet,host=web-1,interface=eth0 bytes_recv=" +
                      std::to_string(r * 100) + "i " + t + "\n");
  }
  core::BatchPool pool(1);
  std::vector<std::uint32_t> sel;
  sel.reserve(4096);
  auto one_pass = [&] {
    core::Batch* b = pool.acquire();
    for (std::size_t r = 0; r < records.size(); ++r) {
      core::Event& e = b->events.emplace_back();
      e.message = records[r];
      e.offset = r;
      e.timestamp_ns = 1'795'000'000'000'000'000LL;
      e.fields = core::Value::object(b->arena, 2);
      core::Value meta = core::Value::object(b->arena, 3);
      meta.append("topic", core::Value::string("telegraf"), b->arena);
      meta.append("offset", core::Value::integer(static_cast<std::int64_t>(r)), b->arena);
      e.fields.append("kafka", meta, b->arena);
    }
    sel.clear();
    for (std::uint32_t i = 0; i < b->events.size(); ++i) sel.push_back(i);
    filter->expand(*b, sel);
    if (b->slots.size() != 1) b->slots.resize(1);
    for (std::uint32_t i : sel) b->slots[0].selected.push_back(i);
    output->encode(*b, b->slots[0]);
    const std::size_t events = b->events.size();
    const bool all_points = b->slots[0].encoded.find('\0') == std::string::npos;
    b->release();
    return std::pair(events, all_points);
  };
  one_pass();  // warm: the splice's scratch, the arena's blocks, the slot's buffers
  one_pass();  // the batch and the splice swap their event vectors: both warm now
  long before = g_allocations.load();
  auto [events, all_points] = one_pass();
  CHECK(g_allocations.load() - before == 0);
  CHECK(events == 1000);
  CHECK(all_points);
}

// The tcp and syslog inputs' hot path: a read framed into events (the input
// thread), decorated (a worker: peers, syslog parsing into ECS fields) and
// encoded, as the stream reader and decorate() do it.
TEST_CASE("a warm batch of syslog or tcp lines is framed, decorated and encoded without a heap allocation") {
  config::Diagnostics diag;
  auto cfg = config::load_text("t.yaml", "inputs: [{id: in, type: stdin}]\noutputs: [{id: out, type: stdout}]\n", diag);
  REQUIRE(cfg);
  auto output = cfg->pipelines[0].outputs[0].spec->build({"main", "out", "/tmp"});
  std::string syslog, lines;
  for (int i = 0; i < 1000; ++i) {
    std::string m = i % 2 ? "<165>1 2003-10-11T22:14:15.003Z host.example.com app " + std::to_string(i) +
                                " ID47 [ex@32473 iut=\"3\" src=\"a\\\"b\"] message " + std::to_string(i)
                          : "<13>Oct 11 22:14:15 host app[" + std::to_string(i) + "]: message " + std::to_string(i);
    syslog += std::to_string(m.size()) + " " + m;
    lines += "GET /index.html?id=" + std::to_string(i) + " caf\xc3\xa9\n";
  }
  inputs::NetStats stats;
  core::BatchPool pool(1);
  inputs::syslog::TimeZone utc;
  for (bool is_syslog : {true, false}) {
    CAPTURE(is_syslog);
    inputs::StreamFramer framer;
    framer.configure(is_syslog ? inputs::Framing::kAuto : inputs::Framing::kNewline, 64 << 10);
    const std::string& data = is_syslog ? syslog : lines;
    auto one_pass = [&] {
      core::Batch* b = pool.acquire();
      b->chunk.reserve(data.size() + 64);
      const std::uint64_t peer = inputs::add_peer(*b, inputs::PeerAddr{4, 514, {10, 0, 0, 1}});
      const std::size_t from = framer.begin(b->chunk);
      b->chunk.resize(from + data.size());
      std::memcpy(b->chunk.data() + from, data.data(), data.size());
      inputs::BatchSink sink(*b, peer, 4096, "line_cut", stats);
      framer.split(b->chunk, from, false, sink);
      for (auto& e : b->events) e.timestamp_ns = 1'700'000'000'000'000'000;
      if (is_syslog) inputs::syslog::decorate_syslog(*b, inputs::syslog::Format::kAuto, utc, stats);
      else inputs::tcp::decorate_tcp(*b, false, stats);
      if (b->slots.size() != 1) b->slots.resize(1);
      for (std::uint32_t i = 0; i < b->events.size(); ++i) b->slots[0].selected.push_back(i);
      output->encode(*b, b->slots[0]);
      const bool parsed =
          b->slots[0].encoded.find("\"structured_data\":{\"ex@32473\":{\"iut\":\"3\",\"src\":\"a\\\"b\"}}") !=
          std::string::npos;
      const std::size_t n = b->events.size();
      b->release();
      return std::pair(n, parsed);
    };
    one_pass();  // warm
    one_pass();
    long before = g_allocations.load();
    auto [events, parsed] = one_pass();
    CHECK(g_allocations.load() - before == 0);
    CHECK(events == 1000);
    CHECK(parsed == is_syslog);
  }
  CHECK(stats.parse_errors.get("no_priority") == 0);
}
