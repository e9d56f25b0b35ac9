// Filter `modify`: edits fields. Operations run in this order, each in the
// order its keys are written: rename, copy, add, remove.
//   rename: {from: to}      moves a field (missing: nothing happens)
//   copy:   {from: to}      copies a field (a deep copy)
//   add:    {path: value}   sets a field, replacing what was there. A quoted
//                           or non-numeric value is a template ("{{host.name}}-%Y");
//                           exactly "{{field}}" copies the field with its type;
//                           unquoted numbers and true/false keep their type.
//   remove: [path, ...]     removes fields
#pragma once

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "config/reader.h"
#include "core/event.h"
#include "expr/template.h"
#include "pipeline/component.h"

namespace bifrost::filters::modify {

struct AddOp {
  core::FieldPath path;
  std::optional<expr::Template> tmpl;  // set: render this
  core::Value literal;                 // otherwise: this typed scalar
};

struct Spec final : pipeline::FilterSpec {
  std::vector<std::pair<core::FieldPath, core::FieldPath>> rename;
  std::vector<std::pair<core::FieldPath, core::FieldPath>> copy;
  std::vector<AddOp> add;
  std::vector<core::FieldPath> remove;
  std::unique_ptr<pipeline::Filter> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r);

}  // namespace bifrost::filters::modify
