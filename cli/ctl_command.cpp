// fourinone ctl: the park from the shell. Data on stdout, errors on stderr, exit code 1 on
// any error (2 for usage), so scripts can rely on it.
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "fourinone/park.hpp"

namespace fourinone::cli {
namespace {

const char* kUsage =
    "usage: fourinone ctl [--config F] [--server HOST:PORT] [--timeout MS] [--stale] <command> ...\n"
    "  create DOMAIN NODE VALUE [--heartbeat] [--ttl SECONDS] [--policy read|read_write|all]\n"
    "  create --seq DOMAIN VALUE [--heartbeat] [--ttl SECONDS] [--policy P]   prints the new name\n"
    "  update DOMAIN NODE VALUE [--version N]     only if the node has version N\n"
    "  get DOMAIN NODE                            prints the value\n"
    "  stat DOMAIN NODE                           prints the metadata\n"
    "  ls DOMAIN                                  node names in creation order\n"
    "  rm DOMAIN [NODE] [--version N]             a node, or the whole domain\n"
    "  latest DOMAIN NODE [--version N] [--wait SECONDS]\n"
    "                                             the value if newer than version N (default 0:\n"
    "                                             any), waiting up to SECONDS; else prints nothing\n"
    "  watch DOMAIN [NODE] [--from REVISION]      one line per change: REVISION TYPE DOMAIN/NODE VALUE\n"
    "  status                                     role, leader, revision, sessions, nodes\n"
    "  member list                                the group: ID ADDRESS voter|learner ROLE HEALTH\n"
    "  member add HOST:PORT [--wait SECONDS]      add a park server (started with park --join);\n"
    "                                             returns once it caught up and votes (admins)\n"
    "  member remove HOST:PORT                    take a member out of the group (admins)\n"
    "  services SERVICE                           live instances of a registry service, one per\n"
    "                                             line: ID ADDRESS key=value...; compute workers\n"
    "                                             of type T are the service workers.T\n"
    "  cache get|set|rm|stat ...                  the distributed cache (fourinone ctl cache)\n"
    "  mq send|receive|ack|nack|stat|ls|create|rm|subscribe|unsubscribe ...\n"
    "                                             the message queue (fourinone ctl mq --help)\n"
    "  fttp servers|ls|stat|get|put|cp|rm|mkdir|mv ...\n"
    "                                             remote files (fourinone ctl fttp --help)\n"
    "  lock NAME [--wait MS] -- COMMAND ARGS...   run COMMAND holding the fair lock NAME (like\n"
    "                                             flock); exits with its code. The fencing token\n"
    "                                             is in FOURINONE_FENCING_TOKEN and on stderr\n"
    "  elect NAME [--value V] [--wait MS] -- COMMAND ARGS...\n"
    "                                             campaign, then run COMMAND while leader\n"
    "If the lock or leadership is lost (session expired), COMMAND gets SIGTERM and ctl exits 1.\n"
    "With --heartbeat, create stays in the foreground holding its session (and so the node)\n"
    "until interrupted or killed. Login: set FOURINONE_USER and FOURINONE_PASSWORD.\n"
    "--stale: get, ls and latest answered by the server reached (a follower too) without\n"
    "confirming leadership; with --server, read one member's own copy.\n";

// Set by SIGINT/SIGTERM; the foreground commands poll it.
std::atomic<bool> g_interrupted{false};
std::mutex g_wait_mutex;
std::condition_variable g_wait;

void on_signal(int) {
  g_interrupted = true;
  g_wait.notify_all();  // not strictly async-signal-safe; the waiters also poll with a timeout
}

void wait_for_interrupt() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::unique_lock lock(g_wait_mutex);
  while (!g_interrupted) g_wait.wait_for(lock, std::chrono::milliseconds(100));
}

void print_node_meta(const Node& n) {
  std::cout << "domain: " << n.domain << "\nnode: " << n.name << "\nversion: " << n.version
            << "\ncreate_revision: " << n.create_revision << "\nmod_revision: " << n.mod_revision
            << "\ncreator: " << n.creator << "\ncreate_host: " << n.create_host << "\nupdate_host: " << n.update_host
            << "\ncreated_ms: " << n.created_ms << "\nupdated_ms: " << n.updated_ms
            << "\npolicy: " << policy_name(n.policy) << "\nheartbeat_session: " << n.session
            << "\nexpires_ms: " << n.expires_ms << "\nbytes: " << n.value.size() << "\n";
}

int usage_error(const std::string& why) {
  std::cerr << "fourinone ctl: " << why << "\n" << kUsage;
  return 2;
}

int run(Park& park, const Args& args, const ParkOptions& options) {
  const auto& p = args.positional;
  const std::string& cmd = p[0];
  auto need = [&](std::size_t lo, std::size_t hi) { return p.size() - 1 >= lo && p.size() - 1 <= hi; };

  if (cmd == "create") {
    bool seq = args.has("seq");
    if (seq ? !need(2, 2) : !need(3, 3)) return usage_error("create takes DOMAIN NODE VALUE (or --seq DOMAIN VALUE)");
    CreateOptions o;
    o.heartbeat = args.has("heartbeat");
    if (auto ttl = args.value("ttl")) {
      auto v = parse_int("--ttl", *ttl);
      if (!v.ok()) return fail(v.status());
      if (v.value() <= 0) return fail(Status(Errc::bad_request, "--ttl must be positive"));
      o.ttl = std::chrono::seconds(v.value());
    }
    if (auto policy = args.value("policy")) {
      auto pol = parse_policy(*policy);
      if (!pol.ok()) return fail(pol.status());
      o.policy = pol.value();
    }
    auto node = seq ? park.create_sequential(p[1], p[2], o) : park.create(p[1], p[2], p[3], o);
    if (!node.ok()) return fail(node.status());
    if (seq) std::cout << node->name << std::endl;
    if (o.heartbeat) {
      park.on_session_state([](SessionState s) {
        if (s == SessionState::expired) {
          std::cerr << "fourinone: session expired; the heartbeat node is gone" << std::endl;
          g_interrupted = true;
        }
      });
      wait_for_interrupt();
      if (park.session_state() == SessionState::expired) return 1;
    }
    return 0;
  }
  if (cmd == "update") {
    if (!need(3, 3)) return usage_error("update takes DOMAIN NODE VALUE");
    std::int64_t version = kAnyVersion;
    if (auto v = args.value("version")) {
      auto n = parse_int("--version", *v);
      if (!n.ok()) return fail(n.status());
      version = n.value();
    }
    auto node = park.update(p[1], p[2], p[3], version);
    return node.ok() ? 0 : fail(node.status());
  }
  if (cmd == "get" || cmd == "stat") {
    if (!need(2, 2)) return usage_error(cmd + " takes DOMAIN NODE");
    auto node = park.get(p[1], p[2]);
    if (!node.ok()) return fail(node.status());
    if (cmd == "get") {
      std::cout << node->value << std::endl;
    } else {
      print_node_meta(node.value());
    }
    return 0;
  }
  if (cmd == "ls") {
    if (!need(1, 1)) return usage_error("ls takes DOMAIN");
    auto nodes = park.list(p[1]);
    if (!nodes.ok()) return fail(nodes.status());
    for (const auto& n : nodes.value()) std::cout << n.name << "\n";
    std::cout.flush();
    return 0;
  }
  if (cmd == "rm") {
    if (!need(1, 2)) return usage_error("rm takes DOMAIN [NODE]");
    if (p.size() == 2) {
      auto removed = park.remove_domain(p[1]);
      return removed.ok() ? 0 : fail(removed.status());
    }
    std::int64_t version = kAnyVersion;
    if (auto v = args.value("version")) {
      auto n = parse_int("--version", *v);
      if (!n.ok()) return fail(n.status());
      version = n.value();
    }
    auto removed = park.remove(p[1], p[2], version);
    return removed.ok() ? 0 : fail(removed.status());
  }
  if (cmd == "latest") {
    if (!need(2, 2)) return usage_error("latest takes DOMAIN NODE");
    std::uint64_t old = 0;
    std::int64_t wait_s = 0;
    if (auto v = args.value("version")) {
      auto n = parse_int("--version", *v);
      if (!n.ok() || n.value() < 0) return fail(Status(Errc::bad_request, "--version needs a version number"));
      old = static_cast<std::uint64_t>(n.value());
    }
    if (auto w = args.value("wait")) {
      auto n = parse_int("--wait", *w);
      if (!n.ok() || n.value() < 0) return fail(Status(Errc::bad_request, "--wait needs whole seconds"));
      wait_s = n.value();
    }
    auto node = park.get_latest(p[1], p[2], old, std::chrono::seconds(wait_s));
    if (!node.ok()) return fail(node.status());
    if (node.value()) std::cout << node.value()->value << std::endl;
    return 0;
  }
  if (cmd == "watch") {
    if (!need(1, 2)) return usage_error("watch takes DOMAIN [NODE]");
    std::uint64_t from = 0;
    if (auto f = args.value("from")) {
      auto n = parse_int("--from", *f);
      if (!n.ok() || n.value() < 0) return fail(Status(Errc::bad_request, "--from needs a revision"));
      from = static_cast<std::uint64_t>(n.value());
    }
    std::optional<std::string> node;
    if (p.size() == 3) node = p[2];
    auto w = park.watch(p[1], node, from, [](const WatchEvent& e) {
      if (e.type == WatchEvent::Type::resync) {
        std::cout << e.revision << " resync" << std::endl;
        return;
      }
      std::cout << e.revision << " " << event_type_name(e.type) << " " << e.node.domain << "/" << e.node.name;
      if (e.type != WatchEvent::Type::deleted) std::cout << " " << e.node.value;
      std::cout << std::endl;
    });
    if (!w.ok()) return fail(w.status());
    wait_for_interrupt();
    return 0;
  }
  if (cmd == "status") {
    if (!need(0, 0)) return usage_error("status takes no arguments");
    auto s = park.status();
    if (!s.ok()) return fail(s.status());
    std::cout << "server: " << s->server << "\nrole: " << s->role << "\nleader: " << s->leader
              << "\nterm: " << s->term << "\nrevision: " << s->revision << "\ncommit_index: " << s->commit_index
              << "\nsessions: " << s->sessions << "\ndomains: " << s->domains << "\nnodes: " << s->nodes
              << "\nbytes: " << s->bytes << "\n";
    for (const auto& m : s->members) {
      std::cout << "member: " << m.address << " " << m.role << " " << (m.healthy ? "healthy" : "unhealthy");
      if (!m.voter) std::cout << " learner";
      if (m.match_index) std::cout << " match " << m.match_index;
      std::cout << "\n";
    }
    std::cout.flush();
    return 0;
  }
  (void)options;
  return usage_error("unknown command '" + cmd + "'");
}

}  // namespace

int ctl_command(int argc, char** argv) {
  // The mq options ride along in the one option set; ctl_mq refuses those that do not apply.
  auto args = parse_args(argc, argv, 2,
                         {"config", "server", "timeout", "ttl", "policy", "version", "wait", "from", "max", "subscriber",
                          "max-count", "max-age", "max-deliveries", "lease", "value", "offset", "length"},
                         {"help", "heartbeat", "seq", "stale", "add", "topic", "no-ack", "from-oldest", "recursive",
                          "parents", "exclusive"});
  if (!args.ok()) return usage_error(args.status().message());
  if (args->has("help")) {
    bool mq = !args->positional.empty() && args->positional.front() == "mq";
    bool fttp = !args->positional.empty() && args->positional.front() == "fttp";
    std::cout << (mq ? ctl_mq_usage() : fttp ? ctl_fttp_usage() : kUsage);
    return 0;
  }
  if (args->positional.empty()) return usage_error("no command given");
  if (args->positional.front() != "mq") {
    // Elsewhere these would be silently ignored, hiding a mistake.
    for (const char* name : {"max", "subscriber", "max-count", "max-age", "max-deliveries", "lease", "topic", "no-ack",
                             "from-oldest"}) {
      if (args->has(name)) return usage_error(std::string("--") + name + " is an option of the mq commands");
    }
  }
  if (args->positional.front() != "fttp") {
    for (const char* name : {"offset", "length", "recursive", "parents", "exclusive"}) {
      if (args->has(name)) return usage_error(std::string("--") + name + " is an option of the fttp commands");
    }
  }
  spdlog::set_level(spdlog::level::warn);  // ctl's stdout/stderr are for data and errors
  auto config = load_config(args->value_or("config", "config.xml"));
  if (!config.ok()) return fail(config.status());
  auto options = ParkOptions::from_config(config.value());
  options.stale_reads = args->has("stale");
  if (auto server = args->value("server")) {
    // Talk to this one server only (status of one member; no failover to the others).
    auto address = parse_server_address(*server);
    if (!address.ok()) return fail(address.status()), 2;
    options.servers = {address.value()};
  }
  if (auto t = args->value("timeout")) {
    auto ms = parse_int("--timeout", *t);
    if (!ms.ok() || ms.value() <= 0) return fail(Status(Errc::bad_request, "--timeout needs milliseconds"));
    options.call_timeout = std::chrono::milliseconds(ms.value());
    options.connect_timeout = std::min(options.connect_timeout, options.call_timeout);
  }
  if (args->positional.front() == "cache") {
    return ctl_cache(config.value(), args.value(), args->value("timeout") ? options.call_timeout : std::chrono::milliseconds(0));
  }
  if (args->positional.front() == "mq") return ctl_mq(config.value(), args.value(), options);
  if (args->positional.front() == "fttp") {
    return ctl_fttp(config.value(), args.value(), options,
                    args->value("timeout") ? options.call_timeout : std::chrono::milliseconds(0));
  }
  auto park = Park::connect(options);
  if (!park.ok()) return fail(park.status());
  if (args->positional.front() == "lock") return ctl_lock(*park.value(), args.value());
  if (args->positional.front() == "elect") return ctl_elect(*park.value(), args.value());
  if (args->positional.front() == "services") return ctl_services(*park.value(), args.value());
  if (args->positional.front() == "member") return ctl_member(*park.value(), args.value());
  return run(*park.value(), args.value(), options);
}

}  // namespace fourinone::cli
