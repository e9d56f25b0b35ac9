// Names the calling thread (shown by top -H, perf and gdb; at most 15 bytes).
#pragma once

#include <pthread.h>

#include <string>

namespace bifrost::pipeline {

inline void name_thread(const std::string& name) { ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str()); }

}  // namespace bifrost::pipeline
