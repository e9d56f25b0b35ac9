#include <doctest.h>

#include "expr/condition.h"

using namespace bifrost;
using core::Value;

namespace {
struct Fixture {
  core::Arena arena;
  core::Event e;
  Fixture() {
    e.message = "GET /index.html failed with ERROR";
    set("status", Value::integer(503));
    set("code", Value::string("404"));
    set("ratio", Value::number(0.5));
    set("http.request.method", Value::string("POST"));
    set("ok", Value::boolean(false));
    set("nothing", Value());
  }
  void set(const char* path, Value v) { core::set_field(e, *core::FieldPath::parse(path), v, arena); }
  bool eval(const char* text) {
    auto c = expr::Condition::parse(text);
    if (auto* err = std::get_if<expr::ParseError>(&c)) FAIL("parse error at ", err->offset, ": ", err->message);
    return std::get<expr::Condition>(c).evaluate(e);
  }
  expr::ParseError error(const char* text) {
    auto c = expr::Condition::parse(text);
    REQUIRE(std::holds_alternative<expr::ParseError>(c));
    return std::get<expr::ParseError>(c);
  }
};
}  // namespace

TEST_CASE("conditions compare numbers, strings and nested fields") {
  Fixture f;
  CHECK(f.eval("status >= 500"));
  CHECK_FALSE(f.eval("status < 500"));
  CHECK(f.eval("status == 503 and http.request.method == 'POST'"));
  CHECK(f.eval("ratio < 1"));
  CHECK(f.eval("ratio == 0.5"));
  CHECK(f.eval("code == 404"));  // a numeric string compares as a number
  CHECK(f.eval("code == \"404\""));
  CHECK(f.eval("http.request.method != \"GET\""));
  CHECK(f.eval("-1 < status"));
}

TEST_CASE("conditions: and binds tighter than or; not and parentheses") {
  Fixture f;
  CHECK(f.eval("status == 1 and status == 2 or status == 503"));
  CHECK_FALSE(f.eval("status == 1 and (status == 2 or status == 503)"));
  CHECK(f.eval("not status == 1"));
  CHECK(f.eval("not (status == 1 or code == 1)"));
}

TEST_CASE("conditions: missing fields behave like null, exists() tells them apart") {
  Fixture f;
  CHECK_FALSE(f.eval("missing == 'x'"));
  CHECK(f.eval("missing != 'x'"));
  CHECK(f.eval("missing == null"));
  CHECK_FALSE(f.eval("missing > 5"));
  CHECK_FALSE(f.eval("exists(missing)"));
  CHECK(f.eval("exists(nothing)"));
  CHECK(f.eval("exists(http.request.method)"));
  CHECK_FALSE(f.eval("ok"));
  CHECK_FALSE(f.eval("nothing"));
  CHECK(f.eval("status"));
}

TEST_CASE("conditions: =~ matches with RE2 against message and numbers") {
  Fixture f;
  CHECK(f.eval("message =~ 'ERR(OR)?'"));
  CHECK(f.eval(R"(message =~ "^GET /\\S+")"));
  CHECK_FALSE(f.eval("message =~ '^POST'"));
  CHECK(f.eval("status =~ '^5\\d\\d$'"));
  CHECK(f.eval("@timestamp == 0"));
}

TEST_CASE("condition errors point at the offending character") {
  Fixture f;
  CHECK(f.error("status >= ").offset == 10);
  CHECK(f.error("status = 5").offset == 7);
  CHECK(f.error("(status == 5").offset == 0);
  CHECK(f.error("message =~ '(unclosed'").offset == 11);
  CHECK(f.error("status == 5 && x").message.find("and, or, not") != std::string::npos);
  CHECK(f.error("status == 5 garbage").offset == 12);
  CHECK(f.error("size(x) > 1").message.find("unknown function") != std::string::npos);
  CHECK(f.error("'unterminated").message == "unterminated string");
}

TEST_CASE("conditions that nest too deep or run too long are errors, not a crash") {
  std::string deep(10'000, '(');
  deep += "a";
  auto e = std::get<expr::ParseError>(expr::Condition::parse(deep));
  CHECK(e.message.find("nests too deep") != std::string::npos);
  std::string nots;
  for (int i = 0; i < 10'000; ++i) nots += "not ";
  CHECK(std::get<expr::ParseError>(expr::Condition::parse(nots + "a")).message.find("nests too deep") !=
        std::string::npos);
  std::string chain = "a";
  for (int i = 0; i < 10'000; ++i) chain += " and a";
  CHECK(std::get<expr::ParseError>(expr::Condition::parse(chain)).message.find("too long") != std::string::npos);
  std::string fine = "a";
  for (int i = 0; i < 1'000; ++i) fine += " or a";
  CHECK(std::holds_alternative<expr::Condition>(expr::Condition::parse(fine)));
}
