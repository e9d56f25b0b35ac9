#include <doctest.h>

#include "api/server.h"

using namespace bifrost;

// httplib's stop() is lost when it comes before the listening thread has
// marked the server running; a daemon whose input ends at once (stdin
// empty) stops right after start. Without the wait in Server::stop() some
// of these stops never return (the suite then hangs here).
TEST_CASE("the API server stops right after it starts, every time") {
  for (int i = 0; i < 300; ++i) {
    api::ServerOptions options;
    options.listen = "127.0.0.1:0";
    api::Server server(
        options, [] { return nullptr; }, [] { return true; });
    auto address = server.start();
    REQUIRE(address.has_value());
    server.stop();
  }
}
