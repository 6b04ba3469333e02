// fourinone fttp: runs one file server of the FTTP row of config.xml.
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "core/logging.hpp"
#include "fileops/server/fttp_server.hpp"

namespace fourinone::cli {

int fttp_command(int argc, char** argv) {
  auto args = parse_args(argc, argv, 2, {"config", "server", "http"}, {"help", "no-register", "no-sync"}  /* no-sync: passed by `up` to every role; no meaning here */);
  if (!args.ok()) return fail(args.status()), 2;
  if (args->has("help")) {
    std::cout << "usage: fourinone fttp [--config F] --server HOST:PORT [--no-register] [--http HOST:PORT]\n"
                 "Runs the file server HOST:PORT, exposing the ROOTS of the FTTP row in F (default\n"
                 "./config.xml) as fttp://HOST:PORT/ROOT/PATH. It registers in the park (PARK row) so\n"
                 "clients can list it (--no-register: don't). Logins as the park's when PARK/USERS is\n"
                 "set. Stops cleanly on SIGINT or SIGTERM. --http serves a status page and Prometheus\n"
                 "/metrics on HOST:PORT.\n";
    return 0;
  }
  auto config = load_config(args->value_or("config", "config.xml"));
  if (!config.ok()) return fail(config.status());
  core::setup_logging(config->log, "fttp");
  for (const auto& w : config->warnings) spdlog::warn("{}:{}: {}", w.file, w.line, w.message);
  auto server_text = args->value("server");
  if (!server_text) return fail(Status(Errc::bad_request, "say which file server with --server HOST:PORT")), 2;
  auto address = parse_server_address(*server_text);
  if (!address.ok()) return fail(address.status()), 2;

  std::optional<ServerAddress> http;
  if (auto text = args->value("http")) {
    auto parsed = parse_server_address(*text);
    if (!parsed.ok()) return fail(parsed.status()), 2;
    http = parsed.value();
  }
  auto server = fileops::FttpServer::start({config.value(), address.value(), !args->has("no-register"), http});
  if (!server.ok()) return fail(server.status());
  server.value()->run();
  spdlog::info("fttp server {} stopped", address->to_string());
  return 0;
}

}  // namespace fourinone::cli
