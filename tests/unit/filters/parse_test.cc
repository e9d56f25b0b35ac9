#include <doctest.h>

#include <cstring>
#include <deque>

#include "config/model.h"
#include "core/time.h"
#include "filters/decode_base64/decode_base64_filter.h"

using namespace bifrost;

namespace {

struct Built {
  std::unique_ptr<config::Config> cfg;
  std::unique_ptr<pipeline::Filter> filter;
  config::Diagnostics diag;
};

std::unique_ptr<Built> build(const std::string& filter_yaml) {
  auto b = std::make_unique<Built>();
  b->cfg = config::load_text(
      "t.yaml", "inputs: [{id: in, type: stdin}]\nfilters:\n" + filter_yaml + "outputs: [{id: out, type: stdout}]\n",
      b->diag);
  if (b->cfg) b->filter = b->cfg->pipelines[0].filters[0].spec->build({"main", "f", "/tmp"});
  return b;
}

struct Run {
  core::BatchPool pool{1};
  core::Batch* batch = pool.acquire();
  std::deque<std::string> storage;
  // Tests hold Event& across add(): the vector must not reallocate.
  Run() { batch->events.reserve(64); }
  ~Run() { batch->release(); }
  core::Event& add(std::string message) {
    storage.push_back(std::move(message));
    core::Event& e = batch->events.emplace_back();
    e.message = storage.back();
    return e;
  }
  void process(const pipeline::Filter& f) {
    std::vector<std::uint32_t> all;
    for (std::uint32_t i = 0; i < batch->events.size(); ++i) all.push_back(i);
    f.process(*batch, all);
  }
};

std::optional<core::Value> get(const core::Event& e, const char* p) {
  return core::get_field(e, *core::FieldPath::parse(p));
}

bool tagged(const core::Event& e, std::string_view tag) {
  auto t = get(e, "tags");
  if (!t) return false;
  for (const auto& v : t->items()) {
    if (v.as_string() == tag) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("parse_regex sets typed fields from named groups; the first matching pattern wins") {
  auto b = build(R"(  - id: p
    type: parse_regex
    patterns:
      - '^(?P<status>\d{3}) (?P<took>[\d.]+)s (?P<ok>true|false)(?: (?P<opt>\w+))?'
      - 'user=(?P<user>\w+)'
    types: { status: int, took: float, ok: bool }
    target: http
)");
  INFO(b->diag.render());
  REQUIRE(b->filter);
  Run run;
  core::Event& a = run.add("200 0.25s true");
  core::Event& c = run.add("login user=ann from x");  // unanchored search
  core::Event& d = run.add("nothing here");
  run.process(*b->filter);
  CHECK(get(a, "http.status")->as_int() == 200);
  CHECK(get(a, "http.took")->as_double() == 0.25);
  CHECK(get(a, "http.ok")->as_bool());
  CHECK_FALSE(get(a, "http.opt"));  // the optional group did not take part
  CHECK_FALSE(get(a, "http.user"));
  CHECK(get(c, "http.user")->as_string() == "ann");
  CHECK_FALSE(d.fields.is_object());  // on_mismatch: keep (the default)
}

TEST_CASE("parse_regex: on_mismatch tag and drop, and a capture that does not convert is kept and tagged") {
  auto tag = build("  - {id: p, type: parse_regex, pattern: '^(?P<n>\\S+)$', types: {n: int}, on_mismatch: tag}\n");
  REQUIRE(tag->filter);
  Run run;
  core::Event& bad_type = run.add("abc");
  core::Event& no_match = run.add("two words");
  run.process(*tag->filter);
  CHECK(get(bad_type, "n")->as_string() == "abc");
  CHECK(tagged(bad_type, "f_type_failure"));
  CHECK(tagged(no_match, "f_mismatch"));
  CHECK_FALSE(no_match.dropped());

  auto drop = build("  - {id: p, type: parse_regex, pattern: '^x(?P<n>\\d)', on_mismatch: drop}\n");
  REQUIRE(drop->filter);
  Run run2;
  core::Event& y = run2.add("y1");
  core::Event& x = run2.add("x1");
  run2.process(*drop->filter);
  CHECK(std::string(y.drop_reason) == "regex_mismatch");
  CHECK_FALSE(x.dropped());
}

TEST_CASE("parse_regex config errors are located") {
  auto bad = build("  - {id: p, type: parse_regex, pattern: '(?P<a>[unclosed'}\n");
  CHECK_FALSE(bad->cfg);
  // Located at the character PCRE2 points at (the end: the class never closes).
  CHECK(bad->diag.render().find("t.yaml:3:57: filters[0].pattern: invalid regular expression: missing terminating ] "
                                "for character class") != std::string::npos);
  auto unnamed = build("  - {id: p, type: parse_regex, pattern: '(\\d+)'}\n");
  CHECK(unnamed->diag.render().find("no named group") != std::string::npos);
  auto types =
      build("  - {id: p, type: parse_regex, pattern: '(?P<status>\\d+)', types: {statsu: int, status: integer}}\n");
  std::string text = types->diag.render();
  CHECK(text.find("no named group \"statsu\" in the pattern(s); did you mean \"status\"?") != std::string::npos);
  CHECK(text.find("\"integer\" is not one of int | float | bool | string; did you mean \"int\"?") != std::string::npos);
  auto both = build("  - {id: p, type: parse_regex, pattern: '(?P<a>a)', patterns: ['(?P<b>b)']}\n");
  CHECK(both->diag.render().find("give pattern or patterns, not both") != std::string::npos);
  auto none = build("  - {id: p, type: parse_regex}\n");
  CHECK(none->diag.render().find("needs `pattern`") != std::string::npos);
}

TEST_CASE("parse_json merges objects, keeps int64 and double apart, nests, and reports failures") {
  auto b = build("  - {id: j, type: parse_json, on_failure: tag}\n");
  REQUIRE(b->filter);
  Run run;
  core::Event& e =
      run.add(R"({"message":"hi","n":9007199254740993,"f":2.0,"ok":true,"none":null,)"
              R"("http":{"request":{"method":"GET"}},"list":[1,"two",{"x":3}],"@timestamp":"2024-01-01T00:00:00Z"})");
  core::Event& bad = run.add("{not json");
  core::Event& array = run.add("[1,2]");
  run.process(*b->filter);
  CHECK(e.message == "hi");
  CHECK(get(e, "n")->kind() == core::Value::Kind::kInt);
  CHECK(get(e, "n")->as_int() == 9007199254740993);  // exact: not through a double
  CHECK(get(e, "f")->kind() == core::Value::Kind::kDouble);
  CHECK(get(e, "ok")->as_bool());
  CHECK(get(e, "none")->is_null());
  CHECK(get(e, "http.request.method")->as_string() == "GET");
  CHECK(get(e, "list")->items().size() == 3);
  CHECK(get(e, "@timestamp_original")->as_string() == "2024-01-01T00:00:00Z");
  CHECK(tagged(bad, "f_failure"));
  CHECK(tagged(array, "f_failure"));  // the root needs an object
}

TEST_CASE("parse_json reads a message in the batch's read chunk in place, up to the chunk's very end") {
  // The input's chunk: messages point into it. The last document ends at
  // the chunk's capacity, where only the buffer's slack follows, which
  // simdjson may read (the sanitizer build checks the slack is there: the
  // memset below; it does not see into Debian's simdjson).
  auto b = build("  - {id: j, type: parse_json, on_failure: tag}\n");
  REQUIRE(b->filter);
  Run run;
  const std::string docs[] = {R"({"a":1,"s":"x\"y"})", R"({"a":)", R"({"n":{"m":[1,2.5,"z"]},"message":"in"})"};
  std::size_t total = 0;
  for (const auto& d : docs) total += d.size();
  core::ByteBuffer& chunk = run.batch->chunk;
  chunk.reserve(total);
  std::size_t at = chunk.capacity() - total;  // the last byte of the last document is the chunk's last
  chunk.resize(chunk.capacity());
  std::memset(chunk.data() + chunk.capacity(), ' ', core::ByteBuffer::kSlack);  // allocated, and may hold anything
  std::vector<core::Event*> events;
  for (const auto& d : docs) {
    std::memcpy(chunk.data() + at, d.data(), d.size());
    core::Event& e = run.batch->events.emplace_back();
    e.message = {chunk.data() + at, d.size()};
    REQUIRE(chunk.holds(e.message));
    events.push_back(&e);
    at += d.size();
  }
  run.process(*b->filter);
  CHECK(get(*events[0], "a")->as_int() == 1);
  CHECK(get(*events[0], "s")->as_string() == "x\"y");
  CHECK(tagged(*events[1], "f_failure"));
  CHECK(events[2]->message == "in");
  CHECK(get(*events[2], "n.m")->items()[1].as_double() == 2.5);
  CHECK_FALSE(chunk.holds(std::string_view(docs[0])));  // elsewhere: copied, as before
}

TEST_CASE("parse_json with a target stores any document there, and reads another field") {
  auto b = build("  - {id: j, type: parse_json, field: raw, target: payload, on_failure: drop}\n");
  REQUIRE(b->filter);
  Run run;
  core::Event& e = run.add("m");
  core::set_field(e, *core::FieldPath::parse("raw"), core::Value::string("[1,2,3]"), run.batch->arena);
  core::Event& missing = run.add("no raw field");
  run.process(*b->filter);
  CHECK(get(e, "payload")->items().size() == 3);
  CHECK(e.message == "m");
  CHECK(std::string(missing.drop_reason) == "json_failure");
}

TEST_CASE("drop_invalid drops each failing event under the reason of its first failed check") {
  auto b = build(R"(  - id: v
    type: drop_invalid
    max_bytes: 40
    utf8: true
    require: [user]
    types: { status: int, ratio: float }
    match: 'status < 600'
)");
  INFO(b->diag.render());
  REQUIRE(b->filter);
  Run run;
  auto& arena = run.batch->arena;
  auto with = [&](std::string msg, const char* user, core::Value status) -> core::Event& {
    core::Event& e = run.add(std::move(msg));
    if (user) core::set_field(e, *core::FieldPath::parse("user"), core::Value::string(user), arena);
    core::set_field(e, *core::FieldPath::parse("status"), status, arena);
    return e;
  };
  core::Event& ok = with("fine", "ann", core::Value::string("200"));  // a numeric string reads as int
  core::Event& big = with(std::string(41, 'x'), "ann", core::Value::integer(200));
  core::Event& bad_utf8 = with("bad \xff", "ann", core::Value::integer(200));
  core::Event& no_user = with("m", nullptr, core::Value::integer(200));
  core::Event& empty_user = with("m", "", core::Value::integer(200));
  core::Event& wrong = with("m", "ann", core::Value::string("OK"));
  core::Event& out_of_range = with("m", "ann", core::Value::integer(700));
  run.process(*b->filter);
  CHECK_FALSE(ok.dropped());
  CHECK(std::string(big.drop_reason) == "too_large");
  CHECK(std::string(bad_utf8.drop_reason) == "invalid_utf8");
  CHECK(std::string(no_user.drop_reason) == "missing_field");
  CHECK(std::string(empty_user.drop_reason) == "missing_field");
  CHECK(std::string(wrong.drop_reason) == "wrong_type");
  CHECK(std::string(out_of_range.drop_reason) == "no_match");
}

TEST_CASE("drop_invalid checks JSON, can tag instead of dropping, and needs a check") {
  auto b = build("  - {id: v, type: drop_invalid, json: true, action: tag}\n");
  REQUIRE(b->filter);
  Run run;
  core::Event& good = run.add(R"({"a":1})");
  core::Event& bad = run.add("{nope");
  run.process(*b->filter);
  CHECK_FALSE(good.dropped());
  CHECK_FALSE(tagged(good, "f_invalid"));
  CHECK_FALSE(bad.dropped());
  CHECK(tagged(bad, "f_invalid"));
  auto none = build("  - {id: v, type: drop_invalid}\n");
  CHECK(none->diag.render().find("needs at least one check") != std::string::npos);
  auto typo = build("  - {id: v, type: drop_invalid, types: {n: integer}}\n");
  CHECK(typo->diag.render().find("did you mean \"int\"?") != std::string::npos);
}

TEST_CASE("base64 decodes both alphabets with or without padding and rejects the rest") {
  namespace b64 = filters::decode_base64;
  char out[64];
  auto dec = [&](std::string_view in, bool url = false) -> std::optional<std::string> {
    auto n = b64::decode(in, url, out);
    if (!n) return std::nullopt;
    return std::string(out, *n);
  };
  CHECK(dec("aGVsbG8=") == "hello");
  CHECK(dec("aGVsbG8") == "hello");
  CHECK(dec("aGk=") == "hi");
  CHECK(dec("aGk") == "hi");
  CHECK(dec("") == "");
  CHECK(dec("+/8=") == "\xfb\xff");
  CHECK(dec("-_8", true) == "\xfb\xff");
  CHECK_FALSE(dec("-_8"));        // url characters in the standard alphabet
  CHECK_FALSE(dec("+/8", true));  // and the other way round
  CHECK_FALSE(dec("aGVsbG8=="));  // padding that does not complete a quad
  CHECK_FALSE(dec("a"));          // one sextet cannot hold a byte
  CHECK_FALSE(dec("aG Vs"));      // a space
  CHECK_FALSE(dec("a==="));
}

TEST_CASE("decode_base64 sets the target, parses JSON, and never puts binary in a string") {
  auto b = build(R"(  - id: d
    type: decode_base64
    field: imp
    target: impression
    alphabet: url
    parse_json: true
    on_failure: tag
)");
  INFO(b->diag.render());
  REQUIRE(b->filter);
  Run run;
  auto& arena = run.batch->arena;
  core::Event& e = run.add("click");
  // {"id":"a1","variant":"B","n":3} in the URL alphabet, without padding
  core::set_field(e, *core::FieldPath::parse("imp"), core::Value::string("eyJpZCI6ImExIiwidmFyaWFudCI6IkIiLCJuIjozfQ"),
                  arena);
  core::Event& bad = run.add("click");
  core::set_field(bad, *core::FieldPath::parse("imp"), core::Value::string("!!!"), arena);
  run.process(*b->filter);
  CHECK(get(e, "impression.variant")->as_string() == "B");
  CHECK(get(e, "impression.n")->as_int() == 3);
  CHECK(tagged(bad, "f_failure"));

  auto plain = build("  - {id: d, type: decode_base64, field: message}\n");
  REQUIRE(plain->filter);
  Run run2;
  core::Event& text = run2.add("aGVsbG8gd29ybGQ=");
  core::Event& binary = run2.add("//79/A==");  // ff fe fd fc: not UTF-8
  run2.process(*plain->filter);
  CHECK(text.message == "hello world");
  CHECK(binary.message == "//79/A==");  // the original stays
  CHECK(tagged(binary, "f_not_utf8"));
}

TEST_CASE("parse_timestamp sets the event time, or another field as RFC 3339, and guards the range") {
  auto b = build(R"(  - id: t
    type: parse_timestamp
    field: time
    formats: ["%Y-%m-%d %H:%M:%S", rfc3339]
    timezone: Europe/Berlin
    max_past: 3650d
    max_future: 1h
    action: clamp
    on_failure: tag
)");
  INFO(b->diag.render());
  REQUIRE(b->filter);
  Run run;
  auto& arena = run.batch->arena;
  auto with_time = [&](const char* t) -> core::Event& {
    core::Event& e = run.add("m");
    core::set_field(e, *core::FieldPath::parse("time"), core::Value::string(t), arena);
    return e;
  };
  core::Event& local = with_time("2024-07-01 12:00:00");
  core::Event& ancient = with_time("1999-01-01T00:00:00Z");
  core::Event& future = with_time("2999-01-01T00:00:00Z");
  core::Event& bad = with_time("yesterday");
  std::int64_t before = core::now_ns();
  run.process(*b->filter);
  std::int64_t after = core::now_ns();
  CHECK(local.timestamp_ns == 1'719'828'000'000'000'000);  // 10:00Z
  const std::int64_t ten_years = 3650LL * 86'400'000'000'000;
  CHECK(ancient.timestamp_ns >= before - ten_years);
  CHECK(ancient.timestamp_ns <= after - ten_years);
  CHECK(future.timestamp_ns >= before + 3'600'000'000'000);
  CHECK(future.timestamp_ns <= after + 3'600'000'000'000);
  CHECK(tagged(bad, "f_failure"));

  auto other = build(
      "  - {id: t, type: parse_timestamp, field: message, formats: [unix], target: event.created, max_past: 1d, "
      "action: drop}\n");
  REQUIRE(other->filter);
  Run run2;
  core::Event& now_ish = run2.add(std::to_string(core::now_ns() / 1'000'000'000));
  core::Event& old = run2.add("1000000000");
  run2.process(*other->filter);
  CHECK(get(now_ish, "event.created")->as_string().size() == 30);
  CHECK(std::string(old.drop_reason) == "timestamp_out_of_range");

  auto tag =
      build("  - {id: t, type: parse_timestamp, field: message, formats: [unix], max_future: 1s, action: tag}\n");
  REQUIRE(tag->filter);
  Run run3;
  core::Event& ahead = run3.add("4102444800");  // 2100
  run3.process(*tag->filter);
  CHECK(tagged(ahead, "f_out_of_range"));
  CHECK(ahead.timestamp_ns == 4'102'444'800'000'000'000);
}

TEST_CASE("parse_timestamp config errors are located: zone, format, missing formats") {
  auto zone = build("  - {id: t, type: parse_timestamp, field: x, formats: [rfc3339], timezone: Europe/Berlni}\n");
  CHECK(zone->diag.render().find("t.yaml:3:76: filters[0].timezone: unknown time zone \"Europe/Berlni\"") !=
        std::string::npos);
  auto fmt = build("  - {id: t, type: parse_timestamp, field: x, formats: ['%Y-%Q']}\n");
  CHECK(fmt->diag.render().find("invalid time format: unknown directive \"%Q\"") != std::string::npos);
  auto none = build("  - {id: t, type: parse_timestamp, field: x}\n");
  CHECK(none->diag.render().find("missing required key \"formats\"") != std::string::npos);
}
