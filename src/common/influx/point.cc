#include "common/influx/point.h"

namespace bifrost::common::influx {

std::optional<Precision> parse_precision(std::string_view text) {
  if (text == "ns") return Precision::kNs;
  if (text == "us") return Precision::kUs;
  if (text == "ms") return Precision::kMs;
  if (text == "s") return Precision::kS;
  return std::nullopt;
}

void set_point(core::Event& e, const Point& p, core::Arena& arena) {
  if (!e.fields.is_object()) e.fields = core::Value::object(arena, 3);
  core::ObjectBuilder build(e.fields, arena, 3);
  build.set("measurement", core::Value::string(p.measurement));
  build.set("tags", p.tags);
  build.set("fields", p.fields);
  if (p.time_ns) e.timestamp_ns = *p.time_ns;
}

std::optional<Point> point_of(const core::Event& e) {
  const core::Value* measurement = e.fields.find("measurement");
  const core::Value* fields = e.fields.find("fields");
  if (!measurement || !measurement->is_string() || measurement->as_string().empty()) return std::nullopt;
  if (!fields || !fields->is_object() || fields->members().empty()) return std::nullopt;
  const core::Value* tags = e.fields.find("tags");
  if (tags && !tags->is_object()) return std::nullopt;
  return Point{measurement->as_string(), tags ? *tags : core::Value(), *fields, e.timestamp_ns};
}

}  // namespace bifrost::common::influx
