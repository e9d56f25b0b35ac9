// The s3 output's own metric families (registered in src/components.cc).
#pragma once

#include "core/stats.h"

namespace bifrost::outputs::s3 {

inline const core::MetricFamily kObjectsUploaded{
    "bifrost_s3_objects_uploaded_total", core::MetricType::kCounter, "Objects an s3 output stored in its bucket.", {}};
inline const core::MetricFamily kBytesUploaded{"bifrost_s3_uploaded_bytes_total",
                                               core::MetricType::kCounter,
                                               "Bytes of the objects an s3 output stored (as stored: compressed).",
                                               {}};
inline const core::MetricFamily kUploadDuration{
    "bifrost_s3_upload_duration_seconds",
    core::MetricType::kHistogram,
    "Time to store one object (its PUT, or its whole multipart upload), per attempt.",
    {}};
inline const core::MetricFamily kOpenObjects{
    "bifrost_s3_open_objects", core::MetricType::kGauge, "Objects an s3 output is filling on disk.", {}};
inline const core::MetricFamily kOpenObjectBytes{"bifrost_s3_open_object_bytes",
                                                 core::MetricType::kGauge,
                                                 "Bytes on disk of the objects an s3 output is filling.",
                                                 {}};

}  // namespace bifrost::outputs::s3
