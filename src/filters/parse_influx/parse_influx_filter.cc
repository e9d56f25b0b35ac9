#include "filters/parse_influx/parse_influx_filter.h"

#include <array>
#include <cstring>

#include "common/influx/metrics.h"
#include "common/influx/reader.h"
#include "config/expr_reader.h"
#include "core/log.h"
#include "core/time.h"

namespace bifrost::filters::parse_influx {

namespace {

using common::influx::Bound;
using common::influx::Errc;

// Drop reasons (static, as the pipeline counts them), by Errc.
constexpr std::array<const char*, common::influx::kErrcCount> kDropReasons = {
    "influx_no_fields", "influx_unterminated_string", "influx_bad_value", "influx_bad_time", "influx_bad_syntax"};

class ParseInfluxFilter final : public pipeline::Filter {
 public:
  ParseInfluxFilter(const Spec& spec, const pipeline::BuildContext& ctx)
      : spec_(spec),
        id_(ctx.component),
        failure_tag_(ctx.component + "_failure"),
        range_tag_(ctx.component + "_out_of_range"),
        counters_(ctx.stats, true, spec.guard.enabled()) {}

  // For a caller that keeps no index into the batch: the stage calls expand().
  void process(core::Batch& batch, std::span<const std::uint32_t> events) const override {
    std::vector<std::uint32_t> selected(events.begin(), events.end());
    expand(batch, selected);
  }

  void expand(core::Batch& batch, std::vector<std::uint32_t>& events) const override {
    pipeline::EventSplice splice(batch, events);
    const std::int64_t now = spec_.guard.enabled() ? core::now_ns() : 0;
    std::array<std::uint64_t, common::influx::kErrcCount> invalid{};
    std::uint64_t past = 0, future = 0;
    thread_local std::string first_bad;  // what the warning names
    for (std::size_t k = 0; k < events.size(); ++k) {
      const core::Event& from = splice.at(k);
      auto v = core::get_field(from, *spec_.field);
      if (!v || !v->is_string()) {
        core::Event& e = splice.add(from);
        apply_failure(spec_.on_failure, batch, e, failure_tag_, "influx_no_text");
        continue;
      }
      // Every event made of `from` holds its fields: shared, copied by
      // whichever changes them (core::Value::freeze). A text of one line
      // (no newline before its last byte) makes one event: it takes them.
      const std::string_view text = v->as_string();
      core::Value shared = from.fields;
      const bool one_line = text.size() < 2 || !std::memchr(text.data(), '\n', text.size() - 1);
      if (!one_line && shared.is_object() && !shared.members().empty() && !shared.shared()) {
        shared = shared.freeze(batch.arena);
      }
      common::influx::Reader reader(text, spec_.precision, batch.arena);
      bool any = false;
      while (auto line = reader.next()) {
        any = true;
        core::Event& e = splice.add(from);
        e.fields = shared;
        set_text(e, line->text, batch.arena);
        if (!line->point) {
          const Errc code = line->point.error().code;
          if (invalid[static_cast<std::size_t>(code)]++ == 0) first_bad = line->point.error().message;
          apply_failure(spec_.on_failure, batch, e, failure_tag_, kDropReasons[static_cast<std::size_t>(code)]);
          continue;
        }
        common::influx::set_point(e, *line->point, batch.arena);
        if (const Bound b = spec_.guard.check(e.timestamp_ns, now); b != Bound::kNone) {
          (b == Bound::kPast ? past : future) += 1;
          guard(batch, e, b, now);
        }
      }
      if (!any) splice.add(from).drop_reason = "influx_no_points";
    }
    splice.finish();
    bool counted = past + future > 0;
    std::uint64_t bad = 0;
    for (std::size_t i = 0; i < invalid.size(); ++i) {
      if (invalid[i] == 0) continue;
      counters_.add_invalid(static_cast<Errc>(i), invalid[i]);
      bad += invalid[i];
      counted = true;
    }
    // Once a batch, without the line (the log rate-limits by message): the
    // lines are in the events, or in the failed queue.
    if (bad > 0) core::log::warn(id_, bad, " line(s) that are not points, ", action_word(), "; one: ", first_bad);
    if (past + future > 0) {
      counters_.add_out_of_range(Bound::kPast, past);
      counters_.add_out_of_range(Bound::kFuture, future);
    }
    if (counted) counters_.publish();
  }

 private:
  void set_text(core::Event& e, std::string_view line, core::Arena& arena) const {
    if (spec_.field->root() == core::FieldPath::Root::kMessage) {
      e.message = line;
    } else {
      core::set_field(e, *spec_.field, core::Value::string(line), arena);
    }
  }

  void guard(core::Batch& batch, core::Event& e, Bound b, std::int64_t now) const {
    switch (spec_.action) {
      case GuardAction::kClamp: e.timestamp_ns = spec_.guard.bound(b, now); break;
      case GuardAction::kTag: core::add_tag(e, range_tag_, batch.arena); break;
      case GuardAction::kDrop: e.drop_reason = "influx_out_of_range"; break;
      case GuardAction::kReject: e.drop_reason = core::reject_reason("influx_out_of_range"); break;
    }
  }

  const char* action_word() const {
    switch (spec_.on_failure) {
      case OnFailure::kKeep: return "kept";
      case OnFailure::kTag: return "tagged";
      case OnFailure::kDrop: return "dropped";
      case OnFailure::kReject: return "rejected";
    }
    return "kept";
  }

  const Spec& spec_;
  std::string id_;
  std::string failure_tag_;
  std::string range_tag_;
  mutable common::influx::PointCounters counters_;  // expand() runs on every worker
};

}  // namespace

std::unique_ptr<pipeline::Filter> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<ParseInfluxFilter>(*this, ctx);
}

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->field = config::read_field_path(r, "field", "message", "the field holding line protocol, one point a line");
  s->precision = *common::influx::parse_precision(
      r.choice("precision", "ns", {"ns", "us", "ms", "s"}, "the unit of the points' times (Telegraf writes ns)"));
  s->on_failure = read_on_failure(r, "on_failure",
                                  "a line that is not a point (its own event, the line in `field`): keep | tag "
                                  "(<id>_failure) | drop (reason influx_<why>) | reject (to the failed queue)");
  s->guard = common::influx::read_time_guard(r, "out of range (see action)");
  const std::string action =
      r.choice("action", "reject", {"clamp", "tag", "drop", "reject"},
               "a point out of range: clamp to the bound | tag (<id>_out_of_range) | drop | reject (to the failed "
               "queue)");
  s->action = action == "clamp"  ? GuardAction::kClamp
              : action == "tag"  ? GuardAction::kTag
              : action == "drop" ? GuardAction::kDrop
                                 : GuardAction::kReject;
  return s;
}

std::vector<const core::MetricFamily*> metric_families() {
  return {&common::influx::kInvalidPoints, &common::influx::kOutOfRangePoints};
}

}  // namespace bifrost::filters::parse_influx
