// The load generators' own CPU, reported beside every figure (they share the cores with the
// servers they measure).
#pragma once

#include <sys/resource.h>

namespace bench {

// Seconds of CPU this process used so far, user + system, all threads.
inline double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto s = [](timeval t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

}  // namespace bench
