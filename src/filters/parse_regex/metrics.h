// parse_regex's own metric families (registered in src/components.cc).
#pragma once

#include <vector>

#include "core/stats.h"

namespace bifrost::filters::parse_regex {

inline const core::MetricFamily kRegexFallback{
    "bifrost_regex_fallback_total",
    core::MetricType::kCounter,
    "Lines matched again with RE2 because PCRE2 stopped at its match limits.",
    {}};
inline const core::MetricFamily kRegexLimitHits{
    "bifrost_regex_limit_hits_total",
    core::MetricType::kCounter,
    "Matches PCRE2 stopped at its match limits (each then matched with RE2, or a mismatch where RE2 cannot run the "
    "pattern).",
    {}};

inline std::vector<const core::MetricFamily*> metric_families() { return {&kRegexFallback, &kRegexLimitHits}; }

}  // namespace bifrost::filters::parse_regex
