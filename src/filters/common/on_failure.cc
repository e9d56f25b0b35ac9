#include "filters/common/on_failure.h"

namespace bifrost::filters {

OnFailure read_on_failure(config::MapReader& r, const std::string& key, const std::string& description) {
  std::string v = r.choice(key, "keep", {"keep", "tag", "drop", "reject"}, description);
  return v == "tag"      ? OnFailure::kTag
         : v == "drop"   ? OnFailure::kDrop
         : v == "reject" ? OnFailure::kReject
                         : OnFailure::kKeep;
}

void apply_failure(OnFailure action, core::Batch& batch, core::Event& e, std::string_view tag, const char* reason) {
  switch (action) {
    case OnFailure::kKeep: break;
    case OnFailure::kTag: core::add_tag(e, tag, batch.arena); break;
    case OnFailure::kDrop: e.drop_reason = reason; break;
    case OnFailure::kReject: e.drop_reason = core::reject_reason(reason); break;
  }
}

}  // namespace bifrost::filters
