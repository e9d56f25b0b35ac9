// `bifrost test -c PATH`: runs the unit tests written in the config
// (`tests:`) in-process: no input is read, no output written, no socket
// opened. Each test's events enter at a component and the events leaving
// another are compared with the expected ones.
#pragma once

#include <string>

namespace bifrost::app {

// 0 when every test passes, 1 when one fails or there is none, 2 when the
// config is invalid.
int run_config_tests(const std::string& path);

}  // namespace bifrost::app
