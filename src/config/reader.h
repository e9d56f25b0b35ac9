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
  // What the typed accessors know besides, for `bifrost schema`:
  std::vector<std::string> choices;      // choice(): the values allowed
  std::optional<std::int64_t> min, max;  // integer(): the bounds
  std::vector<OptionDoc> options;        // section(): the options of the nested map
};

// An option as a component ended up with it (`bifrost validate --explain`):
// the value given, or the default.
struct Setting {
  std::string key;    // nested keys as "batch.max_events"
  std::string value;  // the scalar as written (variables substituted); "(a map)", "(a list)"; or the default
  bool given = false;
};

class MapReader {
 public:
  // Reports an error when `node` is neither a map nor empty.
  explicit MapReader(const Node& node, std::vector<OptionDoc>* docs = nullptr);

  const Node& node() const { return node_; }
  bool describing() const { return docs_ != nullptr; }
  // While describing: the options listed so far.
  std::vector<OptionDoc>& documented() { return *docs_; }

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
  // A secret (password, token, key): registered to be masked wherever
  // bifrost writes text (core/secrets.h); `validate --explain` shows
  // "(secret)". Warns when it is too short to be masked.
  std::string secret(const std::string& key, const std::string& description);
  // The path of a file the component reads at start (see FileRef); when
  // `secret`, the file is checked for being readable by other users.
  std::string file(const std::string& key, const std::string& description, bool secret = false);
  // A list of strings; a single string is taken as a list of one.
  std::vector<std::string> string_list(const std::string& key, const std::string& description, bool required = false);

  // A nested map of options under `key`, read by `read(MapReader&)`: over its
  // value when given (a map; its keys are then checked), not at all when
  // absent; when describing, over nothing, its options listed under `key`.
  template <class F>
  std::optional<Node> section(const std::string& key, const std::string& description, F&& read, bool required = false);

  // Records every option asked for, with the value given or its default,
  // into `settings` (nested sections too, as "key.sub").
  void record(std::vector<Setting>* settings, std::string prefix = "") {
    record_ = settings;
    record_prefix_ = std::move(prefix);
  }

  // A key this reader accepts and leaves alone (not reported as unknown).
  void ignore(const std::string& key) { known_.push_back(key); }

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
  std::vector<Setting>* record_ = nullptr;
  std::string record_prefix_;
};

template <class F>
std::optional<Node> MapReader::section(const std::string& key, const std::string& description, F&& read,
                                       bool required) {
  auto n = get(key, "map", "", description, required);
  // Its keys are recorded one by one, not the map.
  if (record_ && !docs_ && (!n || n->is_map())) record_->pop_back();
  if (docs_ || (!n && record_)) {
    // Describing; or recording the defaults of an absent section.
    std::vector<OptionDoc> scratch;
    std::vector<OptionDoc>* into = docs_ ? &docs_->back().options : &scratch;
    Diagnostics ignored;  // what a reader says over nothing is not the config's
    Context quiet{&ignored, node_.context().env};
    Node none(YAML::Node(), nullptr, node_.path(), &quiet);
    MapReader m(none, into);
    read(m);
    if (!docs_) {
      for (const OptionDoc& d : scratch) {
        record_->push_back(Setting{record_prefix_ + key + "." + d.key, d.default_text, false});
      }
    }
    return std::nullopt;
  }
  if (!n) return std::nullopt;
  if (!n->is_map()) {
    n->error("expected a map, got " + n->kind_name());
    return std::nullopt;
  }
  MapReader m(*n);
  if (record_) m.record(record_, record_prefix_ + key + ".");
  read(m);
  m.finish();
  return n;
}

// Parses one scalar; each reports a located error and returns nothing on failure.
std::optional<std::int64_t> parse_int(const Node& n);
std::optional<bool> parse_bool(const Node& n);
std::optional<std::int64_t> parse_duration(const Node& n);
std::optional<std::uint64_t> parse_size(const Node& n);

std::string format_duration(std::int64_t ns);
// 1GiB, 64KiB, 1000: the shortest exact way to write a size.
std::string format_size(std::uint64_t bytes);

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
