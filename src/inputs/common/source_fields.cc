#include "inputs/common/source_fields.h"

#include <unistd.h>

namespace bifrost::inputs {

std::string host_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return "localhost";
  return host;
}

core::Value host_object(core::Batch& batch, std::string_view host) {
  core::Value v = core::Value::object(batch.arena, 1);
  v.append("name", core::Value::string(host), batch.arena);
  return v.freeze(batch.arena);
}

void set_host_and_log(core::Batch& batch, core::Event& e, core::Value host, core::Value log) {
  if (!e.fields.is_object()) {  // the common case: a fresh event
    e.fields = core::Value::object(batch.arena, 4);
    e.fields.append("host", host, batch.arena);
    e.fields.append("log", log, batch.arena);
  } else {
    e.fields.set("host", host, batch.arena);
    e.fields.set("log", log, batch.arena);
  }
}

}  // namespace bifrost::inputs
