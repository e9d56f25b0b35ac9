#include "app/cli.h"

int main(int argc, char** argv) { return bifrost::app::main(argc, argv); }
