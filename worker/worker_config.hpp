// The WORKER row of config.xml, as the worker runtime reads it (core/CONFIG.md lists the
// elements). Internal to worker/. Pure; thread-safe.
#pragma once

#include <chrono>

#include "fourinone/config.hpp"
#include "fourinone/error.hpp"

namespace fourinone::detail {

// WORKER/TIMEOUT in hours, on only with DESC="TRUE" (the original's switch); 0 when off.
// Errors: config_error naming the file and the element.
Result<std::chrono::milliseconds> worker_timeout(const Config& config);

// WORKER/SERVERS: where wait_working(type) listens (default localhost:2088).
Result<ServerAddress> default_worker_address(const Config& config);

}  // namespace fourinone::detail
