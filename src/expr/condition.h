// `when:` conditions, parsed once at load into a small tree and evaluated
// per event without allocating.
//
// Grammar:  or := and ('or' and)* ;  and := unary ('and' unary)* ;
//           unary := 'not' unary | cmp ;  cmp := operand (OP operand)? ;
//           operand := '(' or ')' | 'exists' '(' PATH ')' | literal | PATH
// OP is one of == != < <= > >= =~ ; the right side of =~ is a string literal
// holding an RE2 pattern. A missing field compares like null. A number
// compared with a string that holds a number compares as numbers.
// A bare operand is true when it exists and is neither null nor false.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/event.h"

namespace re2 {
class RE2;
}

namespace bifrost::expr {

struct ParseError {
  std::size_t offset;  // in the source text
  std::string message;
};

class Condition {
 public:
  static std::variant<Condition, ParseError> parse(std::string_view text);

  bool evaluate(const core::Event& e) const;
  const std::string& text() const { return text_; }

  Condition(Condition&&) noexcept;
  Condition& operator=(Condition&&) noexcept;
  ~Condition();

  struct Node;

 private:
  Condition();
  std::string text_;
  std::vector<Node> nodes_;  // nodes_[root_] is the root
  std::size_t root_ = 0;
  std::vector<std::unique_ptr<re2::RE2>> regexes_;
  std::vector<std::unique_ptr<std::string>> strings_;  // literal bytes; heap-stable across moves

  friend class ConditionParser;
  bool eval(std::size_t node, const core::Event& e) const;
  std::optional<core::Value> operand(std::size_t node, const core::Event& e) const;
};

}  // namespace bifrost::expr
