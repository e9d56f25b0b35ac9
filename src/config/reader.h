// Reads one YAML map into a plain struct. Each accessor names the key, its
// default and a one-line description; the reader remembers which keys were
// asked for, so finish() can report the others as unknown with a "did you
// mean". Run over an empty map with OptionDocs, the same parse function
// describes its options (for --help and the README).
//
// Parse functions must ask for every key unconditionally, in a stable order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/node.h"

namespace bifrost::config {

struct OptionDoc {
  std::string key;
  std::string type;
  std::string default_text;  // empty: required or no default
  std::string description;
  bool required = false;
};

class MapReader {
 public:
  // Reports an error when `node` is neither a map nor empty.
  explicit MapReader(const Node& node, std::vector<OptionDoc>* docs = nullptr);

  const Node& node() const { return node_; }
  bool describing() const { return docs_ != nullptr; }

  // The raw child, if present (null values count as absent).
  std::optional<Node> get(const std::string& key, const std::string& type, const std::string& default_text,
                          const std::string& description, bool required = false);

  std::string string(const std::string& key, const std::string& def, const std::string& description);
  std::optional<std::string> required_string(const std::string& key, const std::string& description);
  std::int64_t integer(const std::string& key, std::int64_t def, std::int64_t min, std::int64_t max,
                       const std::string& description);
  bool boolean(const std::string& key, bool def, const std::string& description);
  std::int64_t duration_ns(const std::string& key, std::int64_t def_ns, const std::string& description);
  std::uint64_t bytes(const std::string& key, std::uint64_t def, const std::string& description);
  std::string choice(const std::string& key, const std::string& def, const std::vector<std::string>& options,
                     const std::string& description);
  // A list of strings; a single string is taken as a list of one.
  std::vector<std::string> string_list(const std::string& key, const std::string& description, bool required = false);

  // Reports keys that no accessor asked for.
  void finish();
  // Reports only unknown keys that look like a misspelt known one (when the
  // rest of the keys cannot be checked, such as under an unknown type).
  void finish_near_misses();

 private:
  void report_unknown(bool near_misses_only);

  Node node_;
  std::vector<OptionDoc>* docs_;
  std::vector<std::string> known_;
};

// Parses one scalar; each reports a located error and returns nothing on failure.
std::optional<std::int64_t> parse_int(const Node& n);
std::optional<bool> parse_bool(const Node& n);
std::optional<std::int64_t> parse_duration(const Node& n);
std::optional<std::uint64_t> parse_size(const Node& n);

std::string format_duration(std::int64_t ns);

// One of `options`, from a scalar; a located error with "did you mean" otherwise.
std::optional<std::string> parse_choice(const Node& n, const std::vector<std::string>& options);

// Calls f(key_node, value_node) for each entry of a map node; reports a
// located error when `n` is not a map.
template <class F>
void each_entry(const Node& n, const std::string& what, F&& f) {
  if (!n.is_map()) {
    n.error("expected a map of " + what + ", got " + n.kind_name());
    return;
  }
  for (auto it = n.yaml().begin(); it != n.yaml().end(); ++it) {
    std::string key = it->first.Scalar();
    f(Node(it->first, n.source(), n.path() + "." + key, &n.context()), n.child(key, it->second));
  }
}

}  // namespace bifrost::config
