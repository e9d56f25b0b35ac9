// Templates such as "nginx-{{service.name}}-%Y.%m.%d": `{{path}}` inserts a
// field, strftime directives format the event time in UTC, `%%` is a literal
// percent. Parsed once at load; rendering appends to a caller's buffer.
//
// Supported directives: %Y %y %m %d %e %H %I %M %S %p %j %a %A %b %B %F %T
// %s (Unix seconds) %z (+0000) %Z (UTC) %%.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/event.h"
#include "expr/condition.h"

namespace bifrost::expr {

class Template {
 public:
  static std::variant<Template, ParseError> parse(std::string_view text);

  // Appends the rendered text. Returns false when a field was missing (it
  // renders as nothing); the caller decides whether that is an error.
  bool render(const core::Event& e, std::string& out) const;

  // The value of the field when the template is exactly "{{path}}", so a
  // copy keeps the field's type.
  const core::FieldPath* single_field() const;
  bool is_constant() const { return constant_; }
  const std::string& text() const { return text_; }

 private:
  struct Segment {
    enum class Kind { kLiteral, kField, kTime };
    Kind kind;
    std::string literal;
    std::optional<core::FieldPath> path;
    char directive = 0;
  };
  std::string text_;
  std::vector<Segment> segments_;
  bool constant_ = true;
};

// Appends a value as template text: strings as they are, numbers in their
// shortest form, null as nothing, arrays and objects as JSON.
void append_value_text(std::string& out, const core::Value& v);

}  // namespace bifrost::expr
