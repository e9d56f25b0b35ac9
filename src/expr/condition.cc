#include "expr/condition.h"

#include <re2/re2.h>

#include <cctype>
#include <charconv>
#include <cstring>

namespace bifrost::expr {

using core::Value;

struct Condition::Node {
  enum class Kind { kOr, kAnd, kNot, kCompare, kTruthy, kExists, kLiteral, kField };
  enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kMatch };
  explicit Node(Kind k) : kind(k) {}
  Kind kind;
  Op op = Op::kEq;
  std::size_t a = 0, b = 0;             // children (node indexes)
  Value literal;                        // kLiteral
  std::optional<core::FieldPath> path;  // kField, kExists
  std::size_t regex = 0;                // kCompare with kMatch: index into regexes_
};

Condition::Condition() = default;
Condition::Condition(Condition&&) noexcept = default;
Condition& Condition::operator=(Condition&&) noexcept = default;
Condition::~Condition() = default;

namespace {

enum class Tok { kEnd, kLParen, kRParen, kOp, kString, kNumber, kIdent, kError };

struct Token {
  Tok kind;
  std::size_t pos;
  std::string text;  // identifier, operator, or decoded string
};

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '@'; }
bool ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '@' || c == '.' || c == '-';
}

}  // namespace

class ConditionParser {
 public:
  ConditionParser(std::string_view text, Condition& out) : s_(text), out_(out) {}

  std::optional<ParseError> run() {
    next();
    auto root = parse_or();
    if (error_ || !root) return error_ ? error_ : ParseError{0, "invalid condition"};
    if (tok_.kind != Tok::kEnd) return err(tok_.pos, "unexpected \"" + tok_.text + "\" after the end of the condition");
    out_.root_ = *root;
    return std::nullopt;
  }

 private:
  using Node = Condition::Node;

  std::optional<ParseError> err(std::size_t pos, std::string msg) {
    if (!error_) error_ = ParseError{pos, std::move(msg)};
    return error_;
  }

  void next() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    tok_ = Token{Tok::kEnd, i_, ""};
    if (i_ >= s_.size()) return;
    char c = s_[i_];
    std::size_t start = i_;
    if (c == '(' || c == ')') {
      tok_ = Token{c == '(' ? Tok::kLParen : Tok::kRParen, start, std::string(1, c)};
      ++i_;
      return;
    }
    static const char* kOps[] = {"==", "!=", "<=", ">=", "=~", "<", ">"};
    for (const char* op : kOps) {
      std::size_t n = std::strlen(op);
      if (s_.compare(i_, n, op) == 0) {
        tok_ = Token{Tok::kOp, start, op};
        i_ += n;
        return;
      }
    }
    if (c == '"' || c == '\'') {
      std::string text;
      ++i_;
      while (i_ < s_.size() && s_[i_] != c) {
        if (s_[i_] == '\\' && i_ + 1 < s_.size()) {
          char e = s_[i_ + 1];
          // Keep regex escapes (\d, \s, \.) as they are; decode the quote and backslash.
          if (e == c || e == '\\') text.push_back(e);
          else if (e == 'n') text.push_back('\n');
          else if (e == 't') text.push_back('\t');
          else {
            text.push_back('\\');
            text.push_back(e);
          }
          i_ += 2;
          continue;
        }
        text.push_back(s_[i_++]);
      }
      if (i_ >= s_.size()) {
        tok_ = Token{Tok::kError, start, "unterminated string"};
        return;
      }
      ++i_;
      tok_ = Token{Tok::kString, start, std::move(text)};
      return;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '-' && i_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_ + 1])))) {
      ++i_;
      while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' ||
                                ((s_[i_] == '-' || s_[i_] == '+') && (s_[i_ - 1] == 'e' || s_[i_ - 1] == 'E')))) {
        ++i_;
      }
      tok_ = Token{Tok::kNumber, start, std::string(s_.substr(start, i_ - start))};
      return;
    }
    if (ident_start(c)) {
      while (i_ < s_.size() && ident_char(s_[i_])) ++i_;
      tok_ = Token{Tok::kIdent, start, std::string(s_.substr(start, i_ - start))};
      return;
    }
    if (c == '=') {
      tok_ = Token{Tok::kError, start, "\"=\" is not an operator; use == to compare"};
      ++i_;
      return;
    }
    if (c == '&' || c == '|' || c == '!') {
      tok_ = Token{Tok::kError, start, std::string("\"") + c + "\" is not an operator; use and, or, not"};
      ++i_;
      return;
    }
    tok_ = Token{Tok::kError, start, std::string("unexpected character \"") + c + "\""};
    ++i_;
  }

  // Parsing and evaluation recurse: bound both, so that no condition can
  // exhaust a thread's stack.
  static constexpr int kMaxDepth = 64;
  static constexpr std::size_t kMaxNodes = 4096;

  std::size_t add(Node n) {
    if (out_.nodes_.size() >= kMaxNodes && !error_) {
      err(tok_.pos, "the condition is too long (at most " + std::to_string(kMaxNodes) + " parts)");
    }
    out_.nodes_.push_back(std::move(n));
    return out_.nodes_.size() - 1;
  }

  // Counts nesting (parentheses, not) while a parse function runs.
  struct Nest {
    ConditionParser& p;
    bool ok;
    explicit Nest(ConditionParser& parser) : p(parser), ok(++parser.depth_ <= kMaxDepth) {
      if (!ok) p.err(p.tok_.pos, "the condition nests too deep (at most " + std::to_string(kMaxDepth) + " levels)");
    }
    ~Nest() { --p.depth_; }
  };

  bool is_word(const char* w) const { return tok_.kind == Tok::kIdent && tok_.text == w; }

  std::optional<std::size_t> parse_or() {
    Nest nest(*this);
    if (!nest.ok) return std::nullopt;
    auto left = parse_and();
    while (left && !error_ && is_word("or")) {
      next();
      auto right = parse_and();
      if (!right) return std::nullopt;
      Node n{Node::Kind::kOr};
      n.a = *left;
      n.b = *right;
      left = add(std::move(n));
    }
    return left;
  }

  std::optional<std::size_t> parse_and() {
    auto left = parse_unary();
    while (left && !error_ && is_word("and")) {
      next();
      auto right = parse_unary();
      if (!right) return std::nullopt;
      Node n{Node::Kind::kAnd};
      n.a = *left;
      n.b = *right;
      left = add(std::move(n));
    }
    return left;
  }

  std::optional<std::size_t> parse_unary() {
    Nest nest(*this);
    if (!nest.ok) return std::nullopt;
    if (is_word("not")) {
      next();
      auto inner = parse_unary();
      if (!inner) return std::nullopt;
      Node n{Node::Kind::kNot};
      n.a = *inner;
      return add(std::move(n));
    }
    return parse_compare();
  }

  std::optional<std::size_t> parse_compare() {
    bool left_is_group = tok_.kind == Tok::kLParen || is_word("exists");
    auto left = parse_operand();
    if (!left) return std::nullopt;
    if (tok_.kind != Tok::kOp) {
      if (left_is_group) return left;
      Node n{Node::Kind::kTruthy};
      n.a = *left;
      return add(std::move(n));
    }
    if (left_is_group) {
      err(tok_.pos, "cannot compare a condition; compare a field or a value");
      return std::nullopt;
    }
    std::string op = tok_.text;
    next();
    std::size_t right_pos = tok_.pos;
    Node n{Node::Kind::kCompare};
    n.a = *left;
    if (op == "=~") {
      if (tok_.kind != Tok::kString) {
        err(right_pos, "=~ needs a quoted regular expression on its right");
        return std::nullopt;
      }
      auto re = std::make_unique<re2::RE2>(tok_.text, re2::RE2::Quiet);
      if (!re->ok()) {
        err(right_pos, "invalid regular expression: " + re->error());
        return std::nullopt;
      }
      n.op = Node::Op::kMatch;
      n.regex = out_.regexes_.size();
      out_.regexes_.push_back(std::move(re));
      next();
      return add(std::move(n));
    }
    if (op == "==") n.op = Node::Op::kEq;
    else if (op == "!=") n.op = Node::Op::kNe;
    else if (op == "<") n.op = Node::Op::kLt;
    else if (op == "<=") n.op = Node::Op::kLe;
    else if (op == ">") n.op = Node::Op::kGt;
    else n.op = Node::Op::kGe;
    if (tok_.kind == Tok::kLParen || is_word("exists") || is_word("not")) {
      err(right_pos, "expected a field or a value after " + op);
      return std::nullopt;
    }
    auto right = parse_operand();
    if (!right) return std::nullopt;
    n.b = *right;
    return add(std::move(n));
  }

  std::optional<std::size_t> parse_operand() {
    switch (tok_.kind) {
      case Tok::kError: err(tok_.pos, tok_.text); return std::nullopt;
      case Tok::kEnd: err(tok_.pos, "expected a field, a value or \"(\" but the condition ended"); return std::nullopt;
      case Tok::kLParen: {
        std::size_t open = tok_.pos;
        next();
        auto inner = parse_or();
        if (!inner) return std::nullopt;
        if (tok_.kind != Tok::kRParen) {
          err(tok_.kind == Tok::kEnd ? open : tok_.pos, "missing \")\"");
          return std::nullopt;
        }
        next();
        return inner;
      }
      case Tok::kRParen:
      case Tok::kOp: err(tok_.pos, "expected a field or a value, got \"" + tok_.text + "\""); return std::nullopt;
      case Tok::kString: {
        out_.strings_.push_back(std::make_unique<std::string>(tok_.text));
        Node n{Node::Kind::kLiteral};
        n.literal = Value::string(*out_.strings_.back());
        next();
        return add(std::move(n));
      }
      case Tok::kNumber: {
        Node n{Node::Kind::kLiteral};
        const std::string& t = tok_.text;
        std::int64_t i = 0;
        auto r = std::from_chars(t.data(), t.data() + t.size(), i);
        if (r.ec == std::errc() && r.ptr == t.data() + t.size()) {
          n.literal = Value::integer(i);
        } else {
          double d = 0;
          auto rd = std::from_chars(t.data(), t.data() + t.size(), d);
          if (rd.ec != std::errc() || rd.ptr != t.data() + t.size()) {
            err(tok_.pos, "invalid number \"" + t + "\"");
            return std::nullopt;
          }
          n.literal = Value::number(d);
        }
        next();
        return add(std::move(n));
      }
      case Tok::kIdent: break;
    }
    const std::string word = tok_.text;
    std::size_t pos = tok_.pos;
    if (word == "true" || word == "false") {
      Node n{Node::Kind::kLiteral};
      n.literal = Value::boolean(word == "true");
      next();
      return add(std::move(n));
    }
    if (word == "null") {
      Node n{Node::Kind::kLiteral};
      next();
      return add(std::move(n));
    }
    if (word == "and" || word == "or" || word == "not") {
      err(pos, "expected a field or a value, got \"" + word + "\"");
      return std::nullopt;
    }
    if (word == "exists") {
      next();
      if (tok_.kind != Tok::kLParen) {
        err(tok_.pos, "expected \"(\" after exists");
        return std::nullopt;
      }
      next();
      if (tok_.kind != Tok::kIdent) {
        err(tok_.pos, "exists() takes a field path");
        return std::nullopt;
      }
      auto path = core::FieldPath::parse(tok_.text);
      if (!path) {
        err(tok_.pos, "invalid field path \"" + tok_.text + "\"");
        return std::nullopt;
      }
      next();
      if (tok_.kind != Tok::kRParen) {
        err(tok_.pos, "missing \")\" after exists(" + path->text());
        return std::nullopt;
      }
      next();
      Node n{Node::Kind::kExists};
      n.path = std::move(path);
      return add(std::move(n));
    }
    auto path = core::FieldPath::parse(word);
    if (!path) {
      err(pos, "invalid field path \"" + word + "\"");
      return std::nullopt;
    }
    next();
    if (tok_.kind == Tok::kLParen) {
      err(pos, "unknown function \"" + word + "\"; the only function is exists()");
      return std::nullopt;
    }
    Node n{Node::Kind::kField};
    n.path = std::move(path);
    return add(std::move(n));
  }

  std::string_view s_;
  Condition& out_;
  std::size_t i_ = 0;
  Token tok_{Tok::kEnd, 0, ""};
  std::optional<ParseError> error_;
  int depth_ = 0;
};

std::variant<Condition, ParseError> Condition::parse(std::string_view text) {
  Condition c;
  c.text_ = std::string(text);
  ConditionParser p(c.text_, c);
  if (auto e = p.run()) return *e;
  return c;
}

namespace {

bool to_number(const Value& v, double& out, bool& is_int, std::int64_t& out_int) {
  switch (v.kind()) {
    case Value::Kind::kInt:
      out_int = v.as_int();
      out = static_cast<double>(out_int);
      is_int = true;
      return true;
    case Value::Kind::kDouble:
      out = v.as_double();
      is_int = false;
      return true;
    case Value::Kind::kString: {
      std::string_view s = v.as_string();
      auto r = std::from_chars(s.data(), s.data() + s.size(), out_int);
      if (r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty()) {
        out = static_cast<double>(out_int);
        is_int = true;
        return true;
      }
      auto rd = std::from_chars(s.data(), s.data() + s.size(), out);
      is_int = false;
      return rd.ec == std::errc() && rd.ptr == s.data() + s.size() && !s.empty();
    }
    default: return false;
  }
}

// <0, 0, >0; or nullopt when the two cannot be ordered.
std::optional<int> compare(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) {
    if (a.is_null() && b.is_null()) return 0;
    return std::nullopt;
  }
  if (a.is_string() && b.is_string()) {
    int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.kind() == Value::Kind::kBool || b.kind() == Value::Kind::kBool) {
    if (a.kind() == b.kind()) return a.as_bool() == b.as_bool() ? 0 : (a.as_bool() ? 1 : -1);
    return std::nullopt;
  }
  if (a.is_number() || b.is_number()) {
    double da, db;
    bool ia, ib;
    std::int64_t xa = 0, xb = 0;
    if (!to_number(a, da, ia, xa) || !to_number(b, db, ib, xb)) return std::nullopt;
    if (ia && ib) return xa < xb ? -1 : (xa > xb ? 1 : 0);
    return da < db ? -1 : (da > db ? 1 : 0);
  }
  return std::nullopt;
}

}  // namespace

std::optional<Value> Condition::operand(std::size_t idx, const core::Event& e) const {
  const Node& n = nodes_[idx];
  if (n.kind == Node::Kind::kLiteral) return n.literal;
  return core::get_field(e, *n.path);
}

bool Condition::evaluate(const core::Event& e) const { return eval(root_, e); }

bool Condition::eval(std::size_t idx, const core::Event& e) const {
  const Node& n = nodes_[idx];
  switch (n.kind) {
    case Node::Kind::kOr: return eval(n.a, e) || eval(n.b, e);
    case Node::Kind::kAnd: return eval(n.a, e) && eval(n.b, e);
    case Node::Kind::kNot: return !eval(n.a, e);
    case Node::Kind::kExists: return core::get_field(e, *n.path).has_value();
    case Node::Kind::kTruthy: {
      auto v = operand(n.a, e);
      if (!v || v->is_null()) return false;
      return !(v->kind() == Value::Kind::kBool && !v->as_bool());
    }
    case Node::Kind::kCompare: {
      Value a = operand(n.a, e).value_or(Value());
      if (n.op == Node::Op::kMatch) {
        char buf[32];
        std::string_view text;
        if (a.is_string()) {
          text = a.as_string();
        } else if (a.kind() == Value::Kind::kInt) {
          auto r = std::to_chars(buf, buf + sizeof buf, a.as_int());
          text = std::string_view(buf, static_cast<std::size_t>(r.ptr - buf));
        } else if (a.kind() == Value::Kind::kDouble) {
          auto r = std::to_chars(buf, buf + sizeof buf, a.as_double());
          text = std::string_view(buf, static_cast<std::size_t>(r.ptr - buf));
        } else {
          return false;
        }
        return re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *regexes_[n.regex]);
      }
      Value b = operand(n.b, e).value_or(Value());
      auto c = compare(a, b);
      switch (n.op) {
        case Node::Op::kEq: return c && *c == 0;
        case Node::Op::kNe: return !c || *c != 0;
        case Node::Op::kLt: return c && *c < 0 && !a.is_null();
        case Node::Op::kLe: return c && *c <= 0 && !a.is_null();
        case Node::Op::kGt: return c && *c > 0 && !a.is_null();
        case Node::Op::kGe: return c && *c >= 0 && !a.is_null();
        case Node::Op::kMatch: return false;
      }
      return false;
    }
    case Node::Kind::kLiteral:
    case Node::Kind::kField: break;
  }
  return false;
}

}  // namespace bifrost::expr
