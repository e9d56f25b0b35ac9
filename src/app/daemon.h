// `bifrost run`: loads the config, runs its pipelines, and handles signals:
// SIGTERM/SIGINT stop (drain within shutdown_timeout; a second one exits at
// once), SIGHUP reloads (an invalid new config is logged and the running
// one kept). Exits by itself when every input has ended.
#pragma once

#include <string>

namespace bifrost::app {

int run_daemon(const std::string& config_path);

}  // namespace bifrost::app
