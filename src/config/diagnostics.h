// Config errors, each located as FILE:LINE:COL with the key path, collected
// so that `bifrost validate` reports every error at once.
#pragma once

#include <string>
#include <vector>

namespace bifrost::config {

struct Location {
  std::string file;
  int line = 0;  // 1-based; 0 = unknown
  int col = 0;   // 1-based
};

struct Diagnostic {
  Location loc;
  std::string path;  // pipelines.web.outputs[1].hosts
  std::string message;
};

class Diagnostics {
 public:
  void error(Location loc, std::string path, std::string message);
  // Not an error: the config loads (a deprecated key, say).
  void warning(Location loc, std::string path, std::string message);
  bool ok() const { return items_.empty(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  const std::vector<Diagnostic>& warnings() const { return warnings_; }
  // One line per error: "FILE:LINE:COL: PATH: message".
  std::string render() const;
  // One line per warning: "FILE:LINE:COL: warning: PATH: message".
  std::string render_warnings() const;

 private:
  std::vector<Diagnostic> items_;
  std::vector<Diagnostic> warnings_;
};

}  // namespace bifrost::config
