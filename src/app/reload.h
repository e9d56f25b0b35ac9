// `bifrost reload -c PATH`: validates PATH, asks the running daemon to
// reload (POST /reload on its API) and returns once the new pipelines run:
// exit 0, or 2 with the daemon's errors when it found the config invalid,
// 1 when it could not reload (or was not reached).
#pragma once

namespace bifrost::app {

int run_reload(int argc, char** argv);

}  // namespace bifrost::app
