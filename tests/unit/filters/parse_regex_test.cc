// parse_regex as configured: named building blocks and their types, your
// own definitions, `engine`, located errors, and the lines past PCRE2's
// limits (RE2 takes them, or on_mismatch where it cannot), counted in the
// filter's metrics.
#include <doctest.h>

#include <deque>

#include "config/model.h"
#include "filters/parse_regex/metrics.h"

using namespace bifrost;

namespace {

struct Built {
  std::unique_ptr<config::Config> cfg;
  std::unique_ptr<pipeline::Filter> filter;
  config::Diagnostics diag;
  core::ComponentStats stats;
};

std::unique_ptr<Built> build(const std::string& filter_yaml) {
  auto b = std::make_unique<Built>();
  b->cfg = config::load_text(
      "t.yaml", "inputs: [{id: in, type: stdin}]\nfilters:\n" + filter_yaml + "outputs: [{id: out, type: stdout}]\n",
      b->diag);
  if (b->cfg) b->filter = b->cfg->pipelines[0].filters[0].spec->build({"main", "f", "/tmp", &b->stats});
  return b;
}

struct Run {
  core::BatchPool pool{1};
  core::Batch* batch = pool.acquire();
  std::deque<std::string> storage;
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

double series(const core::ComponentStats& stats, const core::MetricFamily& family) {
  for (const core::Series& s : stats.series.snapshot()) {
    if (s.family == &family) return s.value;
  }
  return -1;
}

std::string words(int n, std::string_view end) {
  std::string s;
  for (int k = 0; k < n; ++k) s += "word ";
  s += end;
  return s;
}

}  // namespace

TEST_CASE("parse_regex: named building blocks set typed fields, into field paths and under target") {
  auto b = build(R"(  - id: p
    type: parse_regex
    target: http
    pattern: '^%{IP:client.ip} %{USER:user} \[%{HTTPDATE:time}\] "%{WORD:method} %{NOTSPACE:path} HTTP/%{NUMBER:version:float}" %{INT:status:int} (?:%{INT:bytes}|-) (?<rest>.*)'
    types: { bytes: int }
)");
  INFO(b->diag.render());
  REQUIRE(b->filter);
  Run run;
  core::Event& a = run.add(R"(2001:db8::1 alice [01/Jan/2024:00:00:01 +0000] "GET /x?y=1 HTTP/1.1" 200 512 tail)");
  core::Event& c = run.add(R"(10.0.0.1 - [01/Jan/2024:00:00:01 +0000] "POST / HTTP/2" 404 - )");
  run.process(*b->filter);
  CHECK(get(a, "http.client.ip")->as_string() == "2001:db8::1");
  CHECK(get(a, "http.user")->as_string() == "alice");
  CHECK(get(a, "http.time")->as_string() == "01/Jan/2024:00:00:01 +0000");
  CHECK(get(a, "http.version")->as_double() == 1.1);
  CHECK(get(a, "http.status")->as_int() == 200);
  CHECK(get(a, "http.bytes")->as_int() == 512);  // `types` names a building block's field too
  CHECK(get(a, "http.rest")->as_string() == "tail");
  CHECK(get(c, "http.client.ip")->as_string() == "10.0.0.1");
  CHECK(get(c, "http.status")->as_int() == 404);
  CHECK_FALSE(get(c, "http.bytes"));  // the group took no part
}

TEST_CASE("parse_regex: patterns given as a map are your own building blocks") {
  auto b = build(R"(  - id: p
    type: parse_regex
    patterns:
      KV: '%{WORD}=%{NOTSPACE}'
      DURATION: '[0-9]+(?:\.[0-9]+)?'
    pattern: '^%{KV:first} took %{DURATION:took:float}s'
)");
  INFO(b->diag.render());
  REQUIRE(b->filter);
  Run run;
  core::Event& a = run.add("user=ann took 0.25s");
  run.process(*b->filter);
  CHECK(get(a, "first")->as_string() == "user=ann");
  CHECK(get(a, "took")->as_double() == 0.25);
}

TEST_CASE("parse_regex: engine re2 and pcre2 give the same fields; re2 refuses what it cannot run") {
  for (const char* engine : {"auto", "pcre2", "re2"}) {
    auto b = build(std::string("  - {id: p, type: parse_regex, engine: ") + engine +
                   R"(, pattern: '^(?<a>.*?) (?P<b>\d+)?(?<c>.*)$'})" + "\n");
    INFO(engine, b->diag.render());
    REQUIRE(b->filter);
    Run run;
    core::Event& e = run.add("x y 42z");
    run.process(*b->filter);
    CHECK(get(e, "a")->as_string() == "x");
    CHECK_FALSE(get(e, "b"));
    CHECK(get(e, "c")->as_string() == "y 42z");
  }
  auto bad = build("  - {id: p, type: parse_regex, engine: re2, pattern: '(?<=@)(?<host>\\w+)'}\n");
  CHECK_FALSE(bad->cfg);
  CHECK(bad->diag.render().find("RE2 cannot compile it") != std::string::npos);
  auto typo = build("  - {id: p, type: parse_regex, engine: pcre, pattern: '(?<a>x)'}\n");
  CHECK(typo->diag.render().find("did you mean \"pcre2\"?") != std::string::npos);
}

TEST_CASE("parse_regex: named pattern errors are located, with a did-you-mean") {
  auto unknown = build("  - {id: p, type: parse_regex, pattern: '%{IPV4:ip} %{INTT:n}'}\n");
  CHECK_FALSE(unknown->cfg);
  CHECK(unknown->diag.render().find(
            "t.yaml:3:55: filters[0].pattern: unknown named pattern \"INTT\"; did you mean \"INT\"?") !=
        std::string::npos);
  auto in_definition = build(R"(  - id: p
    type: parse_regex
    patterns: { MINE: '%{WROD}+', 'bad-name': x }
    pattern: '%{MINE:m}'
)");
  std::string text = in_definition->diag.render();
  const std::string want =
      "t.yaml:5:26: filters[0].patterns.MINE: unknown named pattern \"WROD\"; did you mean \"WORD\"?";
  CHECK(text.find(want) != std::string::npos);
  CHECK(text.find(want, text.find(want) + 1) == std::string::npos);  // once, though checked alone and where used
  CHECK(text.find("a named pattern's name is letters, digits and _, not \"bad-name\"") != std::string::npos);
  auto type = build("  - {id: p, type: parse_regex, pattern: '%{INT:n:integer}'}\n");
  CHECK(type->diag.render().find("\"integer\" is not one of int | float | bool | string; did you mean \"int\"?") !=
        std::string::npos);
  auto no_field = build("  - {id: p, type: parse_regex, pattern: '%{INT} %{WORD}'}\n");
  CHECK(no_field->diag.render().find("no named group") != std::string::npos);
  auto bad_field = build("  - {id: p, type: parse_regex, pattern: '%{INT:a..b}'}\n");
  CHECK(bad_field->diag.render().find("\"a..b\" is not a field path") != std::string::npos);
}

TEST_CASE("parse_regex: lines past PCRE2's limits go to RE2, or follow on_mismatch where RE2 cannot run, counted") {
  auto fallback =
      build("  - {id: p, type: parse_regex, on_mismatch: tag, pattern: '^(?<w>(?:\\w+\\s?)*)$|^(?<rest>.*)!$'}\n");
  INFO(fallback->diag.render());
  REQUIRE(fallback->filter);
  CHECK(series(fallback->stats, filters::parse_regex::kRegexFallback) == 0);  // published at start
  Run run;
  core::Event& hostile = run.add(words(40, "!"));
  core::Event& fine = run.add("a b");
  run.process(*fallback->filter);
  CHECK(get(hostile, "rest")->as_string() == words(40, ""));
  CHECK(get(fine, "w")->as_string() == "a b");
  CHECK(series(fallback->stats, filters::parse_regex::kRegexFallback) == 1);
  CHECK(series(fallback->stats, filters::parse_regex::kRegexLimitHits) == 1);

  auto alone = build("  - {id: p, type: parse_regex, on_mismatch: tag, pattern: '^(?<w>(?:\\w+\\s?)*)(?<!x)$'}\n");
  REQUIRE(alone->filter);
  Run run2;
  core::Event& stuck = run2.add(words(40, "!"));
  core::Event& ok = run2.add("a b");
  run2.process(*alone->filter);
  CHECK(tagged(stuck, "f_mismatch"));
  CHECK(get(ok, "w")->as_string() == "a b");
  CHECK(series(alone->stats, filters::parse_regex::kRegexFallback) == 0);
  CHECK(series(alone->stats, filters::parse_regex::kRegexLimitHits) == 1);
}
