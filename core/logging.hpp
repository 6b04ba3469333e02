// Process-wide logging set-up: points spdlog's default logger at stderr or at LOG/FILE of
// config.xml, with the level from LOG/LEVELNAME (DESIGN §6, core/CONFIG.md).
//
// Every part logs through spdlog's default logger (spdlog::info(...)); this file only decides
// where those lines go and what they look like:
//   2024-05-01 12:00:00.123 info  park[4242] message
// setup_logging() may be called again (say after a reload, or by each test); each call replaces
// the previous logger. It is thread-safe, but lines logged by other threads during the switch
// may go to either logger.
#pragma once

#include <string_view>

#include "fourinone/config.hpp"

namespace fourinone::core {

// Installs the default logger. `log.level` is one of trace, debug, info, warn, error, critical,
// off (as load_config() leaves it; anything else means info, with a warning). `log.file` empty
// means stderr; otherwise lines are appended to that file (its folders are created). If the
// file cannot be opened the logger falls back to stderr and logs a warning saying why; this
// function never throws. `process_name` (say "park") appears on every line; "" means "fourinone".
void setup_logging(const LogConfig& log, std::string_view process_name);

}  // namespace fourinone::core
