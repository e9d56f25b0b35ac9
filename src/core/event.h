// One log event. Its strings point into the memory of the Batch that holds
// it (the read chunk or the batch's Arena), so an Event never owns memory
// and never outlives its batch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/value.h"

namespace bifrost::core {

struct Event {
  std::string_view message;           // the raw line, or what a filter made of it
  std::int64_t timestamp_ns = 0;      // @timestamp, UTC; ingest time until a filter sets it
  Value fields;                       // an object, or null while the event has no field
  std::uint64_t offset = 0;           // byte offset of the line in its source
  const char* drop_reason = nullptr;  // set (to a static string) when a filter dropped it

  bool dropped() const { return drop_reason != nullptr; }
};

// A filter parks an event in its failed queue (rather than dropping it) by
// setting a drop reason made by reject_reason(): the reason with a leading
// '!'. The pipeline writes such events to the filter's failed queue and
// counts them as failed, not as dropped. Interned: the pointer lives as
// long as the process, like the static reasons.
const char* reject_reason(const char* reason);
inline bool is_rejected(const Event& e) { return e.drop_reason != nullptr && e.drop_reason[0] == '!'; }

// A parsed field path such as `http.request.method`. `message` and
// `@timestamp` name the event's own members, not entries in `fields`.
class FieldPath {
 public:
  enum class Root : std::uint8_t { kFields, kMessage, kTimestamp };

  // Returns nothing when `text` is not a valid path (empty, or an empty segment).
  static std::optional<FieldPath> parse(std::string_view text);

  Root root() const { return root_; }
  const std::vector<std::string>& segments() const { return segments_; }
  const std::string& text() const { return text_; }

 private:
  Root root_ = Root::kFields;
  std::vector<std::string> segments_;
  std::string text_;
};

// Reads a field. Message and @timestamp come back as string and int values.
std::optional<Value> get_field(const Event& e, const FieldPath& path);

// Writes a field, creating intermediate objects (and replacing non-object
// intermediates). Setting `message` needs a string; `@timestamp` an int.
// Returns false when the value does not fit the special member.
bool set_field(Event& e, const FieldPath& path, Value v, Arena& arena);

// Removes a field; returns whether it was there. `message` becomes empty.
// (A shared object on the path is copied into `arena` first.)
bool remove_field(Event& e, const FieldPath& path, Arena& arena);

// Appends `tag` to the event's `tags` array (creating it) unless present.
// A `tags` that is not an array is the event's own data (a line-protocol
// point's tag set from parse_influx, a string a JSON document carried): it
// is left alone, and the tag goes to the `_tags` array instead.
void add_tag(Event& e, std::string_view tag, Arena& arena);

}  // namespace bifrost::core
