#include "config/yaml_tree.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <sstream>
#include <unordered_map>
#include <vector>

namespace bifrost::config {

namespace {

std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

std::string at(const YAML::Mark& m) { return std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1); }

Location location(const Source& src, const YAML::Mark& m) {
  if (m.line < 0) return Location{src.file, 0, 0};
  return Location{src.file, m.line + 1, m.column + 1};
}

// The parser's events, to learn what the tree forgets: anchor names, where
// each alias is written (by key path, as the loader names paths), loops, and
// how far aliases expand the tree.
class AliasFinder final : public YAML::EventHandler {
 public:
  AliasFinder(Source& src, Diagnostics& diag) : src_(src), diag_(diag) {}

  bool failed() const { return failed_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnAnchor(const YAML::Mark&, const std::string& name) override { pending_name_ = name; }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor, 1); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string& value) override {
    if (!stack_.empty() && stack_.back().map && stack_.back().want_key) stack_.back().key = value;
    leaf(mark, anchor, 1);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) return leaf(mark, 0, 1);  // yaml-cpp reports undefined anchors itself
    Anchor& a = it->second;
    if (a.open) {
      fail(mark, child_path(),
           "alias *" + a.name + " is used inside the block it names (at " + at(a.mark) + "): that would be a loop");
      return leaf(mark, 0, 1);
    }
    if (!in_key()) src_.aliases[child_path()] = AliasUse{a.name, mark.line + 1, mark.column + 1, a.path};
    if (!stack_.empty() && stack_.back().map && stack_.back().want_key) stack_.back().key.clear();
    if (!failed_ && expanded_ + a.size > kMaxExpandedNodes) {
      fail(mark, child_path(),
           "aliases expand this config past " + std::to_string(kMaxExpandedNodes) + " nodes (at *" + a.name + ")");
    }
    leaf(mark, 0, a.size);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor, false);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor, true);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    bool map;
    std::string path;
    YAML::anchor_t anchor;
    std::size_t size = 1;  // nodes below, aliases expanded
    std::size_t index = 0;
    bool want_key = true;
    std::string key;
  };
  struct Anchor {
    std::string name;
    YAML::Mark mark;
    std::string path;
    std::size_t size = 1;
    bool open = false;
  };

  // A key that is itself a map or a list: nothing in a config is written so.
  bool in_key() const {
    for (const Frame& f : stack_) {
      if (f.path == "?") return true;
    }
    return !stack_.empty() && stack_.back().map && stack_.back().want_key;
  }

  std::string child_path() const {
    if (stack_.empty()) return "";
    const Frame& f = stack_.back();
    if (f.path == "?") return "?";
    if (!f.map) return f.path + "[" + std::to_string(f.index) + "]";
    if (f.want_key) return "?";
    return join(f.path, f.key);
  }

  void name_anchor(YAML::anchor_t anchor, const YAML::Mark& mark, const std::string& path, bool open) {
    if (anchor == 0) return;
    anchors_[anchor] = Anchor{pending_name_, mark, path, 1, open};
    pending_name_.clear();
  }

  // A scalar (size 1) or an alias (the size of what it stands for).
  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor, std::size_t size) {
    name_anchor(anchor, mark, child_path(), false);
    expanded_ = std::min(expanded_ + size, kMaxExpandedNodes + 1);
    done(size);
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor, bool map) {
    std::string path = child_path();
    name_anchor(anchor, mark, path, true);
    expanded_ = std::min(expanded_ + 1, kMaxExpandedNodes + 1);
    stack_.push_back(Frame{map, path, anchor, 1, 0, true, ""});
  }

  void close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (auto it = anchors_.find(f.anchor); f.anchor != 0 && it != anchors_.end()) {
      it->second.open = false;
      it->second.size = f.size;
    }
    done(f.size);
  }

  // A node of `size` ended: it counts in its parent, which moves on.
  void done(std::size_t size) {
    if (stack_.empty()) return;
    Frame& p = stack_.back();
    p.size = std::min(p.size + size, kMaxExpandedNodes + 1);
    if (!p.map) {
      ++p.index;
    } else if (p.want_key) {
      p.want_key = false;
      if (p.key.empty()) p.key = "?";
    } else {
      p.want_key = true;
      p.key.clear();
    }
  }

  void fail(const YAML::Mark& mark, const std::string& path, const std::string& message) {
    diag_.error(location(src_, mark), path == "?" ? "" : path, message);
    failed_ = true;
  }

  Source& src_;
  Diagnostics& diag_;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, Anchor> anchors_;
  std::string pending_name_;
  std::size_t expanded_ = 0;  // nodes so far, each alias counted as what it stands for
  bool failed_ = false;
};

// Walks the tree once per node (an anchored block is walked where it is
// written, which comes before any alias of it): reports duplicate keys and
// merges `<<`.
class Resolver {
 public:
  Resolver(Source& src, Diagnostics& diag) : src_(src), diag_(diag) {}

  void walk(YAML::Node n, const std::string& path) {
    if ((!n.IsSequence() && !n.IsMap()) || !first_visit(n)) return;
    if (n.IsSequence()) {
      for (std::size_t i = 0; i < n.size(); ++i) walk(n[i], path + "[" + std::to_string(i) + "]");
    } else if (n.IsMap()) {
      walk_map(n, path);
    }
  }

 private:
  bool first_visit(const YAML::Node& n) {
    auto& same_place = seen_[n.Mark().pos];
    for (const YAML::Node& s : same_place) {
      if (s.is(n)) return false;
    }
    same_place.push_back(n);
    return true;
  }

  static bool is_merge_key(const YAML::Node& key) {
    return key.IsScalar() && key.Scalar() == "<<" && key.Tag() == "?";  // plain, not "<<" quoted
  }

  void walk_map(YAML::Node map, const std::string& path) {
    std::vector<std::pair<YAML::Node, YAML::Node>> pairs;
    std::vector<YAML::Node> repeated;
    std::unordered_map<std::string, YAML::Mark> first;
    bool merges = false;
    for (auto it = map.begin(); it != map.end(); ++it) {
      YAML::Node key = it->first;  // a copy: `it->` is a proxy that ends with the statement
      if (key.IsScalar()) {
        auto [seen, fresh] = first.emplace(key.Scalar(), key.Mark());
        if (!fresh) {
          diag_.error(location(src_, key.Mark()), join(path, key.Scalar()),
                      "key \"" + key.Scalar() + "\" given twice (first at " + at(seen->second) + ")");
          repeated.push_back(key);
          continue;
        }
      }
      merges = merges || is_merge_key(key);
      pairs.emplace_back(key, it->second);
    }
    for (const YAML::Node& key : repeated) map.remove(key);
    for (auto& [key, value] : pairs) walk(value, join(path, key.IsScalar() ? key.Scalar() : "?"));
    if (merges) merge(map, pairs, path);
  }

  // The maps a `<<` value brings, each with the key path where its alias
  // (or inline map) is written.
  std::vector<std::pair<YAML::Node, std::string>> merge_sources(const YAML::Node& value, const std::string& at_path) {
    std::vector<std::pair<YAML::Node, std::string>> out;
    auto refuse = [&](const YAML::Node& n, const std::string& p) {
      std::string got = n.IsSequence() ? "a list" : n.IsScalar() ? "\"" + n.Scalar() + "\"" : "nothing";
      diag_.error(location(src_, n.Mark()), p,
                  "\"<<\" merges a map (<<: *name) or a list of maps (<<: [*a, *b]), got " + got + src_.through(p));
    };
    if (value.IsMap()) {
      out.emplace_back(value, at_path);
    } else if (value.IsSequence()) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        std::string p = at_path + "[" + std::to_string(i) + "]";
        if (value[i].IsMap()) out.emplace_back(value[i], p);
        else refuse(value[i], p);
      }
    } else {
      refuse(value, at_path);
    }
    return out;
  }

  // Rebuilds `map` in place (aliases of it see the result): its own keys,
  // with the merged maps' keys at the place of their `<<`, each key once;
  // a key written in the map wins, then the earlier merged map.
  void merge(YAML::Node map, const std::vector<std::pair<YAML::Node, YAML::Node>>& pairs, const std::string& path) {
    std::unordered_map<std::string, bool> taken;
    for (const auto& [key, value] : pairs) {
      if (!is_merge_key(key) && key.IsScalar()) taken[key.Scalar()] = true;
    }
    std::vector<std::pair<YAML::Node, YAML::Node>> result;
    for (const auto& [key, value] : pairs) {
      if (!is_merge_key(key)) {
        result.emplace_back(key, value);
        continue;
      }
      const std::string at_path = join(path, "<<");
      for (const auto& [source, source_path] : merge_sources(value, at_path)) {
        // Where the merged keys come from: the alias's block, or the inline map.
        AliasUse via{"", 0, 0, source_path};
        if (auto a = src_.aliases.find(source_path); a != src_.aliases.end()) via = a->second;
        for (auto it = source.begin(); it != source.end(); ++it) {
          if (!it->first.IsScalar() || is_merge_key(it->first) || taken[it->first.Scalar()]) continue;
          taken[it->first.Scalar()] = true;
          result.emplace_back(it->first, it->second);
          AliasUse use = via;
          use.target = join(via.target, it->first.Scalar());
          src_.aliases[join(path, it->first.Scalar())] = use;
        }
      }
    }
    for (const auto& [key, value] : pairs) map.remove(key);
    for (const auto& [key, value] : result) map.force_insert(key, value);
  }

  Source& src_;
  Diagnostics& diag_;
  std::unordered_map<int, std::vector<YAML::Node>> seen_;  // by position, then identity
};

}  // namespace

std::string Source::through(const std::string& path) const {
  if (aliases.empty()) return "";
  std::string p = path, out;
  for (int hops = 0; hops < 32; ++hops) {
    // The longest prefix of `p` that is a whole key path with an alias.
    const AliasUse* use = nullptr;
    std::size_t len = p.size();
    for (; len > 0; --len) {
      if (len != p.size() && p[len] != '.' && p[len] != '[') continue;
      if (auto it = aliases.find(p.substr(0, len)); it != aliases.end()) {
        use = &it->second;
        break;
      }
    }
    if (!use) break;
    if (!use->anchor.empty()) {
      out += (out.empty() ? " (through *" : ", *") + use->anchor + " at " + std::to_string(use->line) + ":" +
             std::to_string(use->col);
    }
    p = use->target + p.substr(len);
  }
  return out.empty() ? out : out + ")";
}

std::optional<YAML::Node> load_yaml(Source& src, Diagnostics& diag) {
  YAML::Node root;
  try {
    root = YAML::Load(src.text);
    std::istringstream in(src.text);
    YAML::Parser parser(in);
    AliasFinder finder(src, diag);
    parser.HandleNextDocument(finder);
    if (finder.failed()) return std::nullopt;
    // A second document would be ignored by YAML::Load: say so.
    struct Rest final : YAML::EventHandler {
      YAML::Mark at;
      bool content = false;
      void OnDocumentStart(const YAML::Mark& m) override { at = m; }
      void OnDocumentEnd() override {}
      void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
      void OnAlias(const YAML::Mark&, YAML::anchor_t) override { content = true; }
      void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {
        content = true;
      }
      void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
        content = true;
      }
      void OnSequenceEnd() override {}
      void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
        content = true;
      }
      void OnMapEnd() override {}
    } rest;
    // yaml-cpp 0.7 can say "one more document" for ever without moving on
    // (a lone "," in the text: found by fuzz_config); the loop ends when the
    // parser stops moving.
    for (int last = -1; !rest.content && parser.HandleNextDocument(rest) && rest.at.pos > last;) {
      last = rest.at.pos;
    }
    if (rest.content) {
      diag.error(location(src, rest.at), "",
                 "a second YAML document (after ---) would be ignored: put the whole config in one document, or "
                 "use a directory of files");
    }
  } catch (const YAML::ParserException& e) {
    Location loc = location(src, e.mark);
    diag.error(loc, "", "YAML syntax error: " + e.msg);
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    diag.error(Location{src.file, 0, 0}, "", std::string("YAML error: ") + e.what());
    return std::nullopt;
  }
  Resolver(src, diag).walk(root, "");
  return root;
}

}  // namespace bifrost::config
