#include "filters/parse_json/parse_json_filter.h"

#include "config/expr_reader.h"
#include "core/json_value.h"

namespace bifrost::filters::parse_json {

namespace {

class ParseJsonFilter final : public pipeline::Filter {
 public:
  ParseJsonFilter(const Spec& spec, const std::string& id) : spec_(spec), tag_(id + "_failure") {}

  void process(core::Batch& batch, std::span<const std::uint32_t> events) const override {
    for (std::uint32_t i : events) {
      core::Event& e = batch.events[i];
      auto v = core::get_field(e, *spec_.field);
      if (!v || !v->is_string() || !apply(batch, e, v->as_string())) {
        apply_failure(spec_.on_failure, batch, e, tag_, "json_failure");
      }
    }
  }

 private:
  bool apply(core::Batch& batch, core::Event& e, std::string_view text) const {
    if (spec_.target) {
      auto doc = core::parse_json_value(text, batch.arena);
      if (!doc) return false;
      core::set_field(e, *spec_.target, *doc, batch.arena);
      return true;
    }
    // Merged into the event: the members go straight into its fields.
    thread_local std::vector<core::Member> members;
    if (!core::parse_json_members(text, batch.arena, batch.chunk.holds(text), members)) return false;
    if (!e.fields.is_object()) e.fields = core::Value::object(batch.arena, 8);
    core::ObjectBuilder fields(e.fields, batch.arena, static_cast<std::uint32_t>(members.size()));
    for (const core::Member& m : members) {
      if (m.key == "message" && m.value.is_string()) {
        e.message = m.value.as_string();
      } else if (m.key == "@timestamp" || m.key == "message") {
        fields.set(m.key == "message" ? "message_original" : "@timestamp_original", m.value);
      } else {
        fields.set(m.key, m.value);  // the key already lives in the arena
      }
    }
    return true;
  }

  const Spec& spec_;
  std::string tag_;
};

}  // namespace

std::unique_ptr<pipeline::Filter> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<ParseJsonFilter>(*this, ctx.component);
}

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->field = config::read_field_path(r, "field", "message", "the field holding the JSON document");
  if (auto t = r.get("target", "field path", "", "where the document goes (default: merged into the event root)")) {
    s->target = config::parse_field_path(*t);
  }
  s->on_failure = read_on_failure(
      r, "on_failure", "keep | tag (<id>_failure) | drop (reason json_failure) | reject (to the failed queue)");
  return s;
}

}  // namespace bifrost::filters::parse_json
