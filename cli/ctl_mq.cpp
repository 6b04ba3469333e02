// fourinone ctl mq ...: the message queue from the shell. This file reads the command line
// (which command, how many words, which options apply) and connects; the commands themselves
// are in ctl_mq_messages.cpp and ctl_mq_channels.cpp.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <iostream>
#include <set>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/ctl_mq.hpp"

namespace fourinone::cli {
namespace {

const char* kMqUsage =
    "usage: fourinone ctl [--config F] [--server HOST:PORT] [--timeout MS] mq <command> ...\n"
    "  mq send QUEUE [BODY] [--topic]           sends BODY, or else each line of stdin (to EOF)\n"
    "                                           as one message, all in one batch; prints the\n"
    "                                           offsets, one a line. --topic: publishes to topic QUEUE\n"
    "  mq receive QUEUE [--max N] [--wait MS] [--subscriber NAME] [--no-ack]\n"
    "                                           leases up to N messages (default 1), waiting up to\n"
    "                                           MS (default 0) for one; prints OFFSET DELIVERIES\n"
    "                                           BODY a line, then acks them (nothing printed: none\n"
    "                                           came). --subscriber: from that subscription of topic\n"
    "                                           QUEUE. --no-ack: prints OFFSET DELIVERIES LEASE BODY\n"
    "                                           and leaves them unacked (see below)\n"
    "  mq ack QUEUE OFFSET LEASE [--subscriber NAME]    done with a leased message: never again\n"
    "  mq nack QUEUE OFFSET LEASE [--subscriber NAME]   give a leased message back at once\n"
    "  mq stat NAME                             depth, in flight, oldest age, dead letters, sent,\n"
    "                                           acked, bytes, rules; a topic: one line per subscriber\n"
    "  mq ls                                    every channel: NAME KIND DEPTH\n"
    "  mq create NAME [--topic] [--max-count N] [--max-age MS] [--max-deliveries N] [--lease MS]\n"
    "                                           a queue (or topic) with these rules (absent or 0:\n"
    "                                           the MQ row's); a channel that exists keeps its rules\n"
    "  mq rm NAME                               the channel with its messages and subscriptions\n"
    "  mq subscribe TOPIC NAME [--from-oldest]  a durable subscription, from the next message\n"
    "                                           published (--from-oldest: the oldest one held)\n"
    "  mq unsubscribe TOPIC NAME                the subscription and its cursor\n"
    "A lease belongs to the park session of the client that received the message, and every\n"
    "ctl command is a client of its own: when `receive --no-ack` exits, its session closes and\n"
    "its messages are available again at once (deliveries + 1; past the channel's\n"
    "max_deliveries they move to QUEUE.dlq). So `ack`/`nack` of that LEASE from a later command\n"
    "answer not_found. They work on a lease a running consumer still holds (its OFFSET and\n"
    "LEASE known from its own output), e.g. to release a message a stuck consumer sits on.\n";

// What one mq command takes: its words, the options that apply, and who runs it.
struct Command {
  const char* name;
  std::size_t min_words;
  std::size_t max_words;
  const char* words;  // for the usage error
  std::set<std::string> options;
  int (*run)(Mq&, const std::vector<std::string>&, const mqctl::Flags&);
};

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      {"send", 1, 2, "QUEUE [BODY]", {"topic"}, mqctl::send},
      {"receive", 1, 1, "QUEUE", {"max", "wait", "no-ack", "subscriber"}, mqctl::receive},
      {"ack", 3, 3, "QUEUE OFFSET LEASE", {"subscriber"}, mqctl::ack},
      {"nack", 3, 3, "QUEUE OFFSET LEASE", {"subscriber"}, mqctl::nack},
      {"stat", 1, 1, "NAME", {}, mqctl::stat},
      {"ls", 0, 0, "no arguments", {}, mqctl::list},
      {"create", 1, 1, "NAME", {"topic", "max-count", "max-age", "max-deliveries", "lease"}, mqctl::create},
      {"rm", 1, 1, "NAME", {}, mqctl::remove},
      {"subscribe", 2, 2, "TOPIC NAME", {"from-oldest"}, mqctl::subscribe},
      {"unsubscribe", 2, 2, "TOPIC NAME", {}, mqctl::unsubscribe},
  };
  return all;
}

// The options every ctl command accepts (they shape the connection, not the command).
const std::set<std::string> kConnectionOptions = {"config", "server", "timeout", "stale"};

int mq_usage(const std::string& why) {
  std::cerr << "fourinone ctl mq: " << why << "\n" << kMqUsage;
  return 2;
}

// A whole number of at least `least` for option --name, or the bad_request saying so.
Result<std::uint64_t> number(const Args& args, const std::string& name, std::int64_t least) {
  auto n = parse_int("--" + name, *args.value(name));
  if (!n.ok()) return n.status();
  if (n.value() < least) {
    return Status(Errc::bad_request, "--" + name + " must be " + std::to_string(least) + " or more");
  }
  return static_cast<std::uint64_t>(n.value());
}

// Converts the options into Flags; the first bad value is returned as a bad_request.
Result<mqctl::Flags> read_flags(const Args& args) {
  mqctl::Flags f;
  f.no_ack = args.has("no-ack");
  f.topic = args.has("topic");
  f.from_oldest = args.has("from-oldest");
  f.subscriber = args.value_or("subscriber", "");
  struct Numeric {
    const char* name;
    std::int64_t least;
    std::function<void(std::uint64_t)> store;
  };
  const Numeric numerics[] = {
      {"max", 1, [&](std::uint64_t v) { f.max = v; }},
      {"wait", 0, [&](std::uint64_t v) { f.wait = std::chrono::milliseconds(v); }},
      {"max-count", 0, [&](std::uint64_t v) { f.rules.max_count = v; }},
      {"max-age", 0, [&](std::uint64_t v) { f.rules.max_age = std::chrono::milliseconds(v); }},
      {"max-deliveries", 0,
       [&](std::uint64_t v) { f.rules.max_deliveries = static_cast<std::uint32_t>(std::min<std::uint64_t>(v, UINT32_MAX)); }},
      {"lease", 0, [&](std::uint64_t v) { f.rules.lease = std::chrono::milliseconds(v); }},
  };
  for (const auto& n : numerics) {
    if (!args.value(n.name)) continue;
    auto v = number(args, n.name, n.least);
    if (!v.ok()) return v.status();
    n.store(v.value());
  }
  return f;
}

}  // namespace

const char* ctl_mq_usage() { return kMqUsage; }

int ctl_mq(const Config& config, const Args& args, const ParkOptions& park) {
  const auto& p = args.positional;  // p[0] == "mq"
  if (p.size() < 2) return mq_usage("no mq command given");
  const Command* cmd = nullptr;
  for (const auto& c : commands()) {
    if (p[1] == c.name) cmd = &c;
  }
  if (cmd == nullptr) return mq_usage("unknown mq command '" + p[1] + "'");
  std::vector<std::string> words(p.begin() + 2, p.end());
  if (words.size() < cmd->min_words || words.size() > cmd->max_words) {
    return mq_usage(std::string(cmd->name) + " takes " + cmd->words);
  }
  // An option that does nothing here is most likely a mistake: say so rather than ignore it.
  std::vector<std::string> given(args.flags.begin(), args.flags.end());
  for (const auto& [name, value] : args.values) given.push_back(name);
  for (const auto& name : given) {
    if (!kConnectionOptions.count(name) && !cmd->options.count(name)) {
      return mq_usage("--" + name + " does not apply to mq " + cmd->name);
    }
  }
  auto flags = read_flags(args);
  if (!flags.ok()) return fail(flags.status()), 2;

  auto options = MqOptions::from_config(config);
  if (!options.ok()) return fail(options.status());
  options->park = park;  // with ctl's --server, --timeout and --stale applied
  auto mq = Mq::connect(options.value());
  if (!mq.ok()) return fail(mq.status());
  return cmd->run(*mq.value(), words, flags.value());
}

}  // namespace fourinone::cli
