// One config file's YAML, as the loader reads it: yaml-cpp's tree, checked
// and resolved before anything reads it.
//
// - Duplicate keys are errors, at every depth, with both places. (yaml-cpp
//   keeps both pairs and a lookup sees the first, so without this check one
//   of the two values would be silently ignored.) The second pair is taken
//   out of the tree, so that the rest of the loader reports nothing twice.
// - Merge keys (`<<: *name`, `<<: [*a, *b]`, `<<: {inline map}`) are merged
//   in place: keys written in the map win, then the merged maps in order.
// - Every alias is recorded in Source::aliases by the key path where it is
//   used, so that an error inside an anchored block, located where the block
//   is written, also says through which alias it was reached.
// - An alias inside the block it names (a loop), a tree that aliases expand
//   past a bound, and a second YAML document are errors.
//
// yaml-cpp's tree does not keep anchor names nor where an alias was written:
// a second pass over the parser's events (YAML::EventHandler) finds them.
#pragma once

#include <optional>

#include "config/node.h"

namespace bifrost::config {

// Nodes an alias may expand a config to; a handful of nested aliases can
// otherwise describe billions of nodes ("billion laughs").
inline constexpr std::size_t kMaxExpandedNodes = 1'000'000;

// Parses `src.text`, fills `src.aliases`, reports into `diag`. Returns the
// root, or nothing when the file cannot be read further (a syntax error, an
// alias loop).
std::optional<YAML::Node> load_yaml(Source& src, Diagnostics& diag);

}  // namespace bifrost::config
