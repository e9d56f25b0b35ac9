// Command line: bifrost run | validate | describe | --version | --help.
#pragma once

namespace bifrost::app {

// Exit codes (DESIGN.md, "Command line").
inline constexpr int kExitOk = 0;
inline constexpr int kExitFatal = 1;
inline constexpr int kExitInvalidConfig = 2;

int main(int argc, char** argv);

}  // namespace bifrost::app
