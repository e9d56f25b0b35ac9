// Reads conditions, templates and field paths from config, with errors
// located at the character where the expression goes wrong.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/reader.h"
#include "core/event.h"
#include "expr/condition.h"
#include "expr/template.h"

namespace bifrost::config {

std::optional<expr::Condition> parse_condition(const Node& n);
std::optional<expr::Template> parse_template(const Node& n);
std::optional<core::FieldPath> parse_field_path(const Node& n);

std::optional<expr::Condition> read_condition(MapReader& r, const std::string& key, const std::string& description);
std::optional<expr::Template> read_template(MapReader& r, const std::string& key, const std::string& def,
                                            const std::string& description, bool required = false);
std::optional<core::FieldPath> read_field_path(MapReader& r, const std::string& key, const std::string& def,
                                               const std::string& description);
// A list of field paths (default: empty); each bad one is a located error.
std::vector<core::FieldPath> read_field_path_list(MapReader& r, const std::string& key, const std::string& description);

}  // namespace bifrost::config
