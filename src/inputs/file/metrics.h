// The file input's own metric families (registered in src/components.cc).
#pragma once

#include <vector>

#include "core/stats.h"

namespace bifrost::inputs::file {

inline const core::MetricFamily kFileLagBytes{
    "bifrost_file_lag_bytes", core::MetricType::kGauge, "Per file: size minus the acknowledged offset.", {"path"}};
inline const core::MetricFamily kFilesOpen{
    "bifrost_files_open", core::MetricType::kGauge, "Files an input holds open.", {}};

inline std::vector<const core::MetricFamily*> metric_families() { return {&kFileLagBytes, &kFilesOpen}; }

}  // namespace bifrost::inputs::file
