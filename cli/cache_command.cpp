// fourinone cache: runs one cache server of a CACHEGROUP row of config.xml.
#include <spdlog/spdlog.h>

#include <iostream>

#include "cache/server/cache_server.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "core/logging.hpp"

namespace fourinone::cli {

int cache_command(int argc, char** argv) {
  auto args = parse_args(argc, argv, 2, {"config", "server", "http"}, {"help"});
  if (!args.ok()) return fail(args.status()), 2;
  if (args->has("help")) {
    std::cout << "usage: fourinone cache [--config F] --server HOST:PORT [--http HOST:PORT]\n"
                 "Runs the cache server HOST:PORT, one member of a CACHEGROUP row in F (default\n"
                 "./config.xml). It finds the park from the PARK row, registers there, and becomes its\n"
                 "group's primary or a backup. Stops cleanly on SIGINT or SIGTERM.\n"
                 "--http serves a status page and Prometheus /metrics on HOST:PORT.\n";
    return 0;
  }
  auto config = load_config(args->value_or("config", "config.xml"));
  if (!config.ok()) return fail(config.status());
  core::setup_logging(config->log, "cache");
  for (const auto& w : config->warnings) spdlog::warn("{}:{}: {}", w.file, w.line, w.message);
  auto server_text = args->value("server");
  if (!server_text) return fail(Status(Errc::bad_request, "say which cache server with --server HOST:PORT")), 2;
  auto address = parse_server_address(*server_text);
  if (!address.ok()) return fail(address.status()), 2;

  std::optional<ServerAddress> http;
  if (auto text = args->value("http")) {
    auto parsed = parse_server_address(*text);
    if (!parsed.ok()) return fail(parsed.status()), 2;
    http = parsed.value();
  }
  auto server = cache::CacheServer::start({config.value(), address.value(), http});
  if (!server.ok()) return fail(server.status());
  server.value()->run();
  spdlog::info("cache server {} stopped", address->to_string());
  return 0;
}

}  // namespace fourinone::cli
