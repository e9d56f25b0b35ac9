#include "outputs/common/codec.h"

#include "core/json.h"

namespace bifrost::outputs {

std::optional<Codec> codec_from_name(std::string_view name) {
  if (name == "json") return Codec::kJson;
  if (name == "text") return Codec::kText;
  return std::nullopt;
}

void encode_slot(const core::Batch& batch, core::OutputSlot& slot, Codec codec) {
  slot.encoded.clear();
  slot.ends.clear();
  slot.ends.reserve(slot.selected.size());
  core::Rfc3339Cache time_cache;
  std::size_t estimate = 0;
  for (std::uint32_t i : slot.selected) estimate += batch.events[i].message.size();
  slot.encoded.reserve(codec == Codec::kJson ? estimate + estimate / 4 + slot.selected.size() * 96
                                             : estimate + slot.selected.size());
  core::JsonWriter out(slot.encoded);
  for (std::uint32_t i : slot.selected) {
    const core::Event& e = batch.events[i];
    if (codec == Codec::kJson) {
      out.event(e, time_cache);
    } else {
      out.raw(e.message);
    }
    out.put('\n');
    slot.ends.push_back(static_cast<std::uint32_t>(out.size()));
  }
}

}  // namespace bifrost::outputs
