#include "filters/drop_invalid/drop_invalid_filter.h"

#include <charconv>

#include "config/expr_reader.h"
#include "core/json.h"
#include "core/json_value.h"
#include "core/strings.h"

namespace bifrost::filters::drop_invalid {

namespace {

bool reads_as(const core::Value& v, Type type) {
  using K = core::Value::Kind;
  if (v.is_string()) {
    std::string_view s = v.as_string();
    if (s.empty()) return false;
    switch (type) {
      case Type::kInt: {
        std::int64_t x;
        auto r = std::from_chars(s.data(), s.data() + s.size(), x);
        return r.ec == std::errc() && r.ptr == s.data() + s.size();
      }
      case Type::kFloat: {
        double x;
        auto r = std::from_chars(s.data(), s.data() + s.size(), x);
        return r.ec == std::errc() && r.ptr == s.data() + s.size();
      }
      case Type::kBool: return s == "true" || s == "false";
    }
  }
  switch (type) {
    case Type::kInt: return v.kind() == K::kInt;
    case Type::kFloat: return v.kind() == K::kInt || v.kind() == K::kDouble;
    case Type::kBool: return v.kind() == K::kBool;
  }
  return false;
}

bool present(const std::optional<core::Value>& v) {
  if (!v || v->is_null()) return false;
  if (v->is_string()) return !v->as_string().empty();
  if (v->is_array()) return !v->items().empty();
  if (v->is_object()) return !v->members().empty();
  return true;
}

class DropInvalidFilter final : public pipeline::Filter {
 public:
  DropInvalidFilter(const Spec& spec, const std::string& id) : spec_(spec), tag_(id + "_invalid") {}

  void process(core::Batch& batch, std::span<const std::uint32_t> events) const override {
    for (std::uint32_t i : events) {
      core::Event& e = batch.events[i];
      const char* reason = check(e);
      if (reason == nullptr) continue;
      apply_failure(spec_.action, batch, e, tag_, reason);
    }
  }

 private:
  const char* check(const core::Event& e) const {
    if (spec_.max_bytes && e.message.size() > spec_.max_bytes) return "too_large";
    if (spec_.utf8 && !core::is_valid_utf8(e.message)) return "invalid_utf8";
    if (spec_.json && !core::is_json(e.message)) return "invalid_json";
    for (const core::FieldPath& p : spec_.require) {
      if (!present(core::get_field(e, p))) return "missing_field";
    }
    for (const auto& [p, type] : spec_.types) {
      auto v = core::get_field(e, p);
      if (v && !reads_as(*v, type)) return "wrong_type";
    }
    if (spec_.match && !spec_.match->evaluate(e)) return "no_match";
    return nullptr;
  }

  const Spec& spec_;
  std::string tag_;
};

}  // namespace

std::unique_ptr<pipeline::Filter> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<DropInvalidFilter>(*this, ctx.component);
}

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->max_bytes = r.bytes("max_bytes", 0, "a message longer than this is invalid (0: no limit)");
  s->utf8 = r.boolean("utf8", false, "the message must be valid UTF-8");
  s->json = r.boolean("json", false, "the message must be a JSON document");
  s->require = config::read_field_path_list(r, "require", "fields that must be present and not empty");
  auto types = r.get("types", "map", "{}", "field: int | float | bool; a present field must read as its type");
  s->match = config::read_condition(r, "match", "a condition every valid event meets");
  std::string action =
      r.choice("action", "drop", {"drop", "tag", "reject"},
               "drop (counted by reason), tag (<id>_invalid) and keep, or reject (to the failed queue)");
  s->action = action == "tag" ? OnFailure::kTag : action == "reject" ? OnFailure::kReject : OnFailure::kDrop;
  if (r.describing()) return s;
  if (types) {
    config::each_entry(*types, "field: type", [&](const config::Node& key, const config::Node& val) {
      auto path = config::parse_field_path(key);
      auto t = config::parse_choice(val, {"int", "float", "bool"});
      if (!path || !t) return;
      s->types.emplace_back(std::move(*path), *t == "int" ? Type::kInt : *t == "float" ? Type::kFloat : Type::kBool);
    });
  }
  bool any_check = false;
  for (const char* k : {"max_bytes", "utf8", "json", "require", "types", "match"}) {
    any_check = any_check || (r.node().is_map() && r.node().yaml()[k].IsDefined());
  }
  if (!any_check) {
    r.node().error("drop_invalid needs at least one check: max_bytes, utf8, json, require, types or match");
  }
  return s;
}

}  // namespace bifrost::filters::drop_invalid
