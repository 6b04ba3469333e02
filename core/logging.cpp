// spdlog set-up for every Fourinone process; see logging.hpp.
#include "core/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace fourinone::core {
namespace {

// Time, level, process name and pid (several processes often share one terminal or file).
constexpr const char* kPattern = "%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %n[%P] %v";

std::optional<spdlog::level::level_enum> level_from_name(const std::string& name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  if (name == "critical") return spdlog::level::critical;
  if (name == "off") return spdlog::level::off;
  return std::nullopt;
}

}  // namespace

void setup_logging(const LogConfig& log, std::string_view process_name) {
  // Two threads setting up at once would otherwise race on which logger wins.
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  std::string name = process_name.empty() ? "fourinone" : std::string(process_name);
  std::string file_problem;
  std::shared_ptr<spdlog::sinks::sink> sink;
  try {
    if (!log.file.empty()) {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(log.file, /*truncate=*/false);
    }
  } catch (const std::exception& e) {
    file_problem = e.what();
  }
  try {
    if (!sink) sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    // Built directly rather than with spdlog::stderr_color_mt(), which refuses a second
    // logger with the same name; set_default_logger() replaces the old one in the registry.
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_pattern(kPattern);
    auto level = level_from_name(log.level);
    logger->set_level(level.value_or(spdlog::level::info));
    // Every line reaches the file at once, so a process killed with -9 leaves its last words.
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
    if (!file_problem.empty()) {
      logger->warn("cannot open log file '{}' ({}); logging to stderr instead", log.file, file_problem);
    }
    if (!level) logger->warn("unknown log level '{}'; using info", log.level);
  } catch (const std::exception& e) {
    // Nothing sensible is left to log with; keep whatever logger spdlog had.
    std::fprintf(stderr, "fourinone: cannot set up logging: %s\n", e.what());
  }
}

}  // namespace fourinone::core
