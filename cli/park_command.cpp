// fourinone park: runs one park server of the group described by config.xml.
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "core/logging.hpp"
#include "park/server/park_server.hpp"

namespace fourinone::cli {

int park_command(int argc, char** argv) {
  auto args = parse_args(argc, argv, 2, {"config", "server", "peer-routes", "http"}, {"help", "no-sync", "join"});
  if (!args.ok()) return fail(args.status()), 2;
  if (args->has("help")) {
    std::cout << "usage: fourinone park [--config F] [--server HOST:PORT] [--join] [--http HOST:PORT]\n"
                 "                      [--peer-routes A=B,...]\n"
                 "Runs the park server HOST:PORT of PARK/SERVERS in F (default ./config.xml). With one\n"
                 "server listed, --server may be left out. Stops cleanly on SIGINT or SIGTERM.\n"
                 "--join: HOST:PORT joins the running group of F's servers instead (it need not be\n"
                 "listed): it waits until `fourinone ctl member add HOST:PORT` adds it. After its first\n"
                 "start a server knows its place from its data directory, whatever SERVERS says.\n"
                 "--http serves the status page and /metrics on HOST:PORT (default: this server's entry\n"
                 "of PARK/HTTP, if any).\n"
                 "--peer-routes reaches member A (its SERVERS entry) at address B instead (a relay or\n"
                 "NAT between servers; the partition tests use it).\n";
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
  options.join = args->has("join");
  if (auto http = args->value("http")) {
    auto address = parse_server_address(*http);
    if (!address.ok()) return fail(address.status()), 2;
    options.http = address.value();
  }
  if (auto routes = args->value("peer-routes")) {
    std::string list = *routes;
    std::size_t at = 0;
    while (at <= list.size()) {
      std::size_t end = std::min(list.find(',', at), list.size());
      std::string item = list.substr(at, end - at);
      auto eq = item.find('=');
      if (eq == std::string::npos) return fail(Status(Errc::bad_request, "--peer-routes needs MEMBER=ADDRESS items, got '" + item + "'")), 2;
      auto member = parse_server_address(item.substr(0, eq));
      auto via = parse_server_address(item.substr(eq + 1));
      if (!member.ok()) return fail(member.status()), 2;
      if (!via.ok()) return fail(via.status()), 2;
      options.peer_routes[member.value()] = via.value();
      at = end + 1;
    }
  }
  // A file-size limit (ulimit -f) must show as a failed write (EFBIG) the server reports, not
  // as a SIGXFSZ that kills it without a word.
  ::signal(SIGXFSZ, SIG_IGN);
  auto server = park::ParkServer::start(options);
  if (!server.ok()) return fail(server.status());
  server.value()->run();
  if (Status failure = server.value()->failure(); !failure.ok()) {
    spdlog::critical("park server {} stopped: {}", options.self.to_string(), failure.message());
    return 3;
  }
  spdlog::info("park server {} stopped", options.self.to_string());
  return 0;
}

}  // namespace fourinone::cli
