// `bifrost schema`: a JSON Schema (draft 2020-12) of the whole config, for
// editors with a YAML language server (completion, hover, errors as one
// types). Made entirely from the option tables the readers describe (see
// describe.h) and the registered component types: a new option or type is in
// the schema without an edit here.
//
// The schema never refuses a config bifrost accepts: a scalar may be quoted or
// come from ${VAR}, so typed options also accept such strings; an option the
// schema cannot type (a free-form type text) accepts any value. What it
// refuses: unknown keys (additionalProperties: false), values of the wrong
// kind, missing required keys, unknown component types.
#pragma once

#include <string>

namespace bifrost::config {

std::string json_schema();

}  // namespace bifrost::config
