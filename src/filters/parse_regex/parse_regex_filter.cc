#include "filters/parse_regex/parse_regex_filter.h"

#include <algorithm>
#include <charconv>
#include <mutex>

#include "core/log.h"
#include "filters/parse_regex/metrics.h"

namespace bifrost::filters::parse_regex {

namespace {

std::optional<core::Value> convert(std::string_view s, Type type) {
  switch (type) {
    case Type::kString: return core::Value::string(s);
    case Type::kInt: {
      std::int64_t v;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
      return core::Value::integer(v);
    }
    case Type::kFloat: {
      double v;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
      return core::Value::number(v);
    }
    case Type::kBool:
      if (s == "true") return core::Value::boolean(true);
      if (s == "false") return core::Value::boolean(false);
      return std::nullopt;
  }
  return std::nullopt;
}

class ParseRegexFilter final : public pipeline::Filter {
 public:
  ParseRegexFilter(const Spec& spec, const pipeline::BuildContext& ctx)
      : spec_(spec),
        mismatch_tag_(ctx.component + "_mismatch"),
        type_tag_(ctx.component + "_type_failure"),
        log_name_(ctx.pipeline + "/" + ctx.component),
        stats_(ctx.stats) {
    for (const Pattern& p : spec_.patterns) max_groups_ = std::max(max_groups_, p.re->groups() + 1);
    if (stats_ == nullptr) return;  // bifrost test, replay: no daemon to report to
    publish();
    // Which engine runs each pattern, once at start (docs/filters.md#engines).
    for (std::size_t k = 0; k < spec_.patterns.size(); ++k) {
      core::log::info(log_name_, "parse_regex: pattern ", k + 1, " of ", spec_.patterns.size(), " runs on ",
                      spec_.patterns[k].re->describe());
    }
  }

  void process(core::Batch& batch, std::span<const std::uint32_t> events) const override {
    thread_local std::vector<re2::StringPiece> groups;
    if (groups.size() < static_cast<std::size_t>(max_groups_)) groups.resize(static_cast<std::size_t>(max_groups_));
    CompiledPattern::Counts counts;
    for (std::uint32_t i : events) {
      core::Event& e = batch.events[i];
      auto v = core::get_field(e, *spec_.field);
      bool matched = false;
      if (v && v->is_string()) {
        std::string_view text = v->as_string();
        for (const Pattern& p : spec_.patterns) {
          // kLimit (PCRE2 alone gave up) counts as no match: the next
          // pattern, then on_mismatch.
          if (p.re->match(text, groups.data(), counts) != CompiledPattern::Outcome::kMatch) continue;
          matched = true;
          bool type_failure = false;
          for (const Capture& c : p.captures) {
            const re2::StringPiece& g = groups[static_cast<std::size_t>(c.group)];
            if (g.data() == nullptr) continue;  // the group took no part in the match
            std::string_view s(g.data(), g.size());
            auto value = convert(s, c.type);
            if (!value) {
              type_failure = true;
              value = core::Value::string(s);
            }
            core::set_field(e, c.path, *value, batch.arena);
          }
          if (type_failure) core::add_tag(e, type_tag_, batch.arena);
          break;
        }
      }
      if (!matched) apply_failure(spec_.on_mismatch, batch, e, mismatch_tag_, "regex_mismatch");
    }
    if (counts.limit_hits > 0) note_limits(counts);
  }

 private:
  // Rare (a line built to make PCRE2 backtrack, or a pattern that does):
  // counted, published and logged (the log rate-limits repeats itself).
  void note_limits(const CompiledPattern::Counts& counts) const {
    limit_hits_.add(counts.limit_hits);
    fallbacks_.add(counts.fallbacks);
    publish();
    const std::uint64_t mismatches = counts.limit_hits - counts.fallbacks;
    if (mismatches == 0) {
      core::log::warn(log_name_, "parse_regex: ", counts.limit_hits,
                      " line(s) of a batch took PCRE2 past its match limits; RE2 matched them instead");
    } else {
      core::log::warn(log_name_, "parse_regex: ", counts.limit_hits,
                      " line(s) of a batch took PCRE2 past its match limits; ", mismatches,
                      " of them for a pattern only PCRE2 runs (RE2 cannot compile it) followed on_mismatch");
    }
  }

  void publish() const {
    if (stats_ == nullptr) return;
    std::lock_guard lock(publish_mu_);  // two workers at once: the later values last
    stats_->series.replace({core::Series{&kRegexFallback, {}, static_cast<double>(fallbacks_.load())},
                            core::Series{&kRegexLimitHits, {}, static_cast<double>(limit_hits_.load())}});
  }

  const Spec& spec_;
  std::string mismatch_tag_;
  std::string type_tag_;
  std::string log_name_;
  core::ComponentStats* stats_;
  int max_groups_ = 1;
  mutable core::Counter limit_hits_;
  mutable core::Counter fallbacks_;
  mutable std::mutex publish_mu_;
};

}  // namespace

std::unique_ptr<pipeline::Filter> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<ParseRegexFilter>(*this, ctx);
}

}  // namespace bifrost::filters::parse_regex
