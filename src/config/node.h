// A YAML node together with where it came from (file, line, column) and its
// key path, so that every error about it can be located precisely.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.h"

namespace bifrost::config {

// Looks up an environment variable; injectable so tests stay hermetic.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

// A block of YAML used where an alias (or a merge key) stands: who brought
// it, and the key path where the block itself is written.
struct AliasUse {
  std::string anchor;  // the alias's name, without `*`; empty for an inline `<<: {...}`
  int line = 0;        // where the alias is written (1-based)
  int col = 0;
  std::string target;  // the key path of the block (or key) it stands for
};

struct Source {
  std::string file;
  std::string text;
  // By the key path where each alias is used (filled by load_yaml).
  std::map<std::string, AliasUse> aliases;
  // For an error at key path `path` (located where the node is written):
  // " (through *a at 3:9)" naming the aliases that lead there, or "".
  std::string through(const std::string& path) const;
};

// Replaces ${VAR} and ${VAR:-default} ($$ is a literal $). On error returns
// nothing and sets `error` and `error_offset` (offset in `in`).
std::optional<std::string> substitute_env(const std::string& in, const EnvLookup& env, std::string& error,
                                          std::size_t& error_offset);

// A file a component reads when it starts (a CA, a certificate, a key, a
// secret): loading does not open it (`bifrost validate` runs anywhere), so
// `bifrost run` checks each at start and at reload, located at its key.
struct FileRef {
  Location loc;
  std::string path;  // the key path: pipelines.main.outputs[0].tls.ca_file
  std::string file;
  bool secret = false;  // warned about when other users may read it
};

struct Context {
  Diagnostics* diag;
  EnvLookup env;
  std::vector<FileRef>* files = nullptr;  // where file() records; none while describing
};

class Node {
 public:
  Node(YAML::Node yaml, std::shared_ptr<const Source> source, std::string path, const Context* ctx)
      : yaml_(std::move(yaml)), source_(std::move(source)), path_(std::move(path)), ctx_(ctx) {}

  const YAML::Node& yaml() const { return yaml_; }
  const std::string& path() const { return path_; }
  const std::shared_ptr<const Source>& source() const { return source_; }
  const Context& context() const { return *ctx_; }
  Diagnostics& diag() const { return *ctx_->diag; }

  bool is_map() const { return yaml_.IsMap(); }
  bool is_sequence() const { return yaml_.IsSequence(); }
  bool is_scalar() const { return yaml_.IsScalar(); }
  bool is_null() const { return !yaml_.IsDefined() || yaml_.IsNull(); }

  Location location() const;
  // Location of a character inside this scalar's text (for expression errors);
  // exact for single-line plain and quoted scalars, the node's start otherwise.
  Location location_in_scalar(std::size_t offset) const;

  void error(const std::string& message) const;
  void warning(const std::string& message) const;
  void error_at(std::size_t offset_in_scalar, const std::string& message) const;

  // The scalar's text with environment variables substituted; reports and
  // returns nothing when this is not a scalar or a variable is missing.
  std::optional<std::string> scalar(const char* expected = "a string") const;

  Node child(const std::string& key, const YAML::Node& value) const;
  Node element(std::size_t index) const;

  // Short name of the node's YAML kind, for "expected X, got Y" messages.
  std::string kind_name() const;

  // " (through *name at LINE:COL)" when this node was reached through an
  // alias (its location is where the anchored block is written), else "".
  std::string through() const;

 private:
  YAML::Node yaml_;
  std::shared_ptr<const Source> source_;
  std::string path_;
  const Context* ctx_;
};

}  // namespace bifrost::config
