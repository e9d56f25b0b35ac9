// Talking to the service manager (systemd, Type=notify): READY, RELOADING,
// STOPPING, STATUS and the watchdog. Without $NOTIFY_SOCKET every call does
// nothing, so the same binary runs anywhere.
#pragma once

#include <chrono>
#include <string>

namespace bifrost::app::service {

void ready(const std::string& status);
void reloading();
void stopping();
// Pets the watchdog when it is due (every half of WatchdogSec); cheap to
// call often. Called from the main loop, so a stuck main loop is noticed.
void watchdog_tick();

}  // namespace bifrost::app::service
