#include <doctest.h>

#include "expr/template.h"

using namespace bifrost;

namespace {
expr::Template parse(const char* t) {
  auto r = expr::Template::parse(t);
  REQUIRE(std::holds_alternative<expr::Template>(r));
  return std::move(std::get<expr::Template>(r));
}
}  // namespace

TEST_CASE("templates insert fields and format the event time in UTC") {
  core::Arena arena;
  core::Event e;
  e.message = "msg";
  e.timestamp_ns = 1'709'251'199'000'000'000;  // 2024-02-29T23:59:59Z, a Thursday
  core::set_field(e, *core::FieldPath::parse("service.name"), core::Value::string("web"), arena);
  core::set_field(e, *core::FieldPath::parse("n"), core::Value::integer(7), arena);
  std::string out;
  CHECK(parse("logs-{{service.name}}-%Y.%m.%d").render(e, out));
  CHECK(out == "logs-web-2024.02.29");
  out.clear();
  CHECK(parse("%F %T %j %a %b %H%%{{ n }}|{{message}}").render(e, out));
  CHECK(out == "2024-02-29 23:59:59 060 Thu Feb 23%7|msg");
  out.clear();
  CHECK_FALSE(parse("x-{{missing}}-y").render(e, out));
  CHECK(out == "x--y");
  CHECK(parse("plain").is_constant());
  CHECK(parse("{{n}}").single_field() != nullptr);
}

TEST_CASE("template errors are located") {
  auto bad = [](const char* t) { return std::get<expr::ParseError>(expr::Template::parse(t)); };
  CHECK(bad("abc-{{oops").offset == 4);
  CHECK(bad("x-%Q").offset == 2);
  CHECK(bad("x-{{a..b}}").offset == 2);
  CHECK(bad("50%").message.find("%%") != std::string::npos);
}
