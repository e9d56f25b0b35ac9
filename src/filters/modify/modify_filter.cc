#include "filters/modify/modify_filter.h"

#include <charconv>

#include "config/expr_reader.h"

namespace bifrost::filters::modify {

namespace {

class ModifyFilter final : public pipeline::Filter {
 public:
  explicit ModifyFilter(const Spec& spec) : spec_(spec) {}

  void process(core::Batch& batch, std::span<const std::uint32_t> events) const override {
    thread_local std::string scratch;
    for (std::uint32_t i : events) {
      core::Event& e = batch.events[i];
      for (const auto& [from, to] : spec_.rename) {
        if (auto v = core::get_field(e, from)) {
          core::remove_field(e, from, batch.arena);
          core::set_field(e, to, *v, batch.arena);
        }
      }
      for (const auto& [from, to] : spec_.copy) {
        if (auto v = core::get_field(e, from)) core::set_field(e, to, core::clone(*v, batch.arena), batch.arena);
      }
      for (const AddOp& op : spec_.add) {
        if (!op.tmpl) {
          core::set_field(e, op.path, op.literal, batch.arena);
        } else if (const core::FieldPath* single = op.tmpl->single_field()) {
          if (auto v = core::get_field(e, *single))
            core::set_field(e, op.path, core::clone(*v, batch.arena), batch.arena);
        } else {
          scratch.clear();
          op.tmpl->render(e, scratch);
          core::set_field(e, op.path, core::Value::string(batch.arena.copy(scratch)), batch.arena);
        }
      }
      for (const core::FieldPath& p : spec_.remove) core::remove_field(e, p, batch.arena);
    }
  }

 private:
  const Spec& spec_;
};

// A plain (unquoted) YAML scalar that reads as a number or a boolean.
std::optional<core::Value> typed_scalar(const config::Node& n, const std::string& text) {
  const auto& src = n.source();
  auto pos = n.yaml().Mark().pos;
  if (src && pos >= 0 && static_cast<std::size_t>(pos) < src->text.size()) {
    char first = src->text[static_cast<std::size_t>(pos)];
    if (first == '"' || first == '\'') return std::nullopt;
  }
  if (text == "true" || text == "false") return core::Value::boolean(text == "true");
  std::int64_t i;
  auto r = std::from_chars(text.data(), text.data() + text.size(), i);
  if (!text.empty() && r.ec == std::errc() && r.ptr == text.data() + text.size()) return core::Value::integer(i);
  double d;
  auto rd = std::from_chars(text.data(), text.data() + text.size(), d);
  if (!text.empty() && rd.ec == std::errc() && rd.ptr == text.data() + text.size()) return core::Value::number(d);
  return std::nullopt;
}

}  // namespace

std::unique_ptr<pipeline::Filter> Spec::build(const pipeline::BuildContext&) const {
  return std::make_unique<ModifyFilter>(*this);
}

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  auto pair_op = [&](const std::string& key, const std::string& doc,
                     std::vector<std::pair<core::FieldPath, core::FieldPath>>& out) {
    auto n = r.get(key, "map", "{}", doc);
    if (!n) return;
    config::each_entry(*n, "field: field", [&](const config::Node& k, const config::Node& v) {
      auto from = config::parse_field_path(k);
      auto to = config::parse_field_path(v);
      if (from && to) out.emplace_back(std::move(*from), std::move(*to));
    });
  };
  pair_op("rename", "fields to move: {from: to}", s->rename);
  pair_op("copy", "fields to copy: {from: to}", s->copy);
  auto add = r.get("add", "map", "{}", "fields to set: {path: value or template}");
  if (add)
    config::each_entry(*add, "field: value", [&](const config::Node& k, const config::Node& v) {
      auto path = config::parse_field_path(k);
      if (!v.is_scalar()) {
        v.error("expected a value or a template, got " + v.kind_name());
        return;
      }
      auto text = v.scalar();
      if (!path || !text) return;
      AddOp op{std::move(*path), std::nullopt, core::Value()};
      if (auto typed = typed_scalar(v, *text)) {
        op.literal = *typed;
      } else if (auto t = config::parse_template(v)) {
        op.tmpl = std::move(t);
      } else {
        return;
      }
      if (op.path.root() == core::FieldPath::Root::kTimestamp) {
        k.error("@timestamp cannot be set with add (use parse_timestamp)");
        return;
      }
      s->add.push_back(std::move(op));
    });
  s->remove = config::read_field_path_list(r, "remove", "fields to remove");
  bool any_key = false;
  for (const char* k : {"rename", "copy", "add", "remove"})
    any_key = any_key || (r.node().is_map() && r.node().yaml()[k].IsDefined());
  if (!r.describing() && !any_key) {
    r.node().error("modify needs at least one of rename, copy, add, remove");
  }
  return s;
}

}  // namespace bifrost::filters::modify
