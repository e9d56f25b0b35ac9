// Field values as canonical bytes (a kind byte, then the content): what the
// stateful stages compare and hash (an aggregate's group-by values, dedupe
// keys made of fields, a distinct value), and what an aggregate reads back
// to write the group-by values into the event it emits. Equal bytes, equal
// values: 200 and "200" and 200.0 are three values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/arena.h"
#include "core/value.h"

namespace bifrost::filters {

// Appends the bytes of `v` (nothing: a missing field, the same as null).
void append_key(std::string& out, const std::optional<core::Value>& v);
// Reads one value off the front of `key`; strings are copied into `arena`.
core::Value read_key(std::string_view& key, core::Arena& arena);

}  // namespace bifrost::filters
