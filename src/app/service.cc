#include "app/service.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdint>

namespace bifrost::app::service {

namespace {
std::uint64_t monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000 + static_cast<std::uint64_t>(ts.tv_nsec) / 1000;
}
}  // namespace

void ready(const std::string& status) { sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str()); }

void reloading() {
  // MONOTONIC_USEC lets systemd >= 253 (Type=notify-reload) match the reload.
  sd_notifyf(0, "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
             static_cast<unsigned long long>(monotonic_usec()));
}

void stopping() { sd_notify(0, "STOPPING=1\nSTATUS=stopping: delivering what is in flight"); }

void watchdog_tick() {
  static std::uint64_t interval = [] {
    std::uint64_t usec = 0;
    return sd_watchdog_enabled(0, &usec) > 0 ? usec / 2 : 0;
  }();
  static std::uint64_t next = 0;
  if (interval == 0) return;
  std::uint64_t now = monotonic_usec();
  if (now < next) return;
  sd_notify(0, "WATCHDOG=1");
  next = now + interval;
}

}  // namespace bifrost::app::service
