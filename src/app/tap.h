// `bifrost tap COMPONENT`: prints the live events leaving a component of
// the running daemon as NDJSON, from its API (a chunked GET /tap).
#pragma once

namespace bifrost::app {

int run_tap(int argc, char** argv);

}  // namespace bifrost::app
