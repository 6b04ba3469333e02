// fourinone park: runs one park server of the group described by config.xml.
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "core/logging.hpp"
#include "park/server/park_server.hpp"

namespace fourinone::cli {

int park_command(int argc, char** argv) {
  auto args = parse_args(argc, argv, 2, {"config", "server"}, {"help", "no-sync"});
  if (!args.ok()) return fail(args.status()), 2;
  if (args->has("help")) {
    std::cout << "usage: fourinone park [--config F] [--server HOST:PORT]\n"
                 "Runs the park server HOST:PORT of PARK/SERVERS in F (default ./config.xml). With one\n"
                 "server listed, --server may be left out. Stops cleanly on SIGINT or SIGTERM.\n";
    return 0;
  }
  auto config = load_config(args->value_or("config", "config.xml"));
  if (!config.ok()) return fail(config.status());
  core::setup_logging(config->log, "park");
  for (const auto& w : config->warnings) spdlog::warn("{}:{}: {}", w.file, w.line, w.message);

  park::ParkServerOptions options;
  options.config = config.value();
  if (auto server = args->value("server")) {
    auto address = parse_server_address(*server);
    if (!address.ok()) return fail(address.status());
    options.self = address.value();
  } else if (config->park.servers.size() == 1) {
    options.self = config->park.servers.front();
  } else {
    return fail(Status(Errc::bad_request, "PARK/SERVERS lists several servers: say which with --server HOST:PORT"));
  }
  options.sync = !args->has("no-sync");
  auto server = park::ParkServer::start(options);
  if (!server.ok()) return fail(server.status());
  server.value()->run();
  spdlog::info("park server {} stopped", options.self.to_string());
  return 0;
}

}  // namespace fourinone::cli
