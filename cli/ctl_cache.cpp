// fourinone ctl cache ...: the distributed cache from the shell.
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "fourinone/cache.hpp"

namespace fourinone::cli {
namespace {

const char* kCacheUsage =
    "usage: fourinone ctl [--config F] [--timeout MS] cache <command> ...\n"
    "  cache get KEY                              prints the value\n"
    "  cache set KEY VALUE [--ttl SECONDS] [--add | --version N]\n"
    "                                             --add: only if absent; --version: only at version N\n"
    "                                             prints the new version\n"
    "  cache rm KEY [--version N]                 prints the removed value\n"
    "  cache stat                                 every cache server: group, role, keys, memory,\n"
    "                                             evictions, hits and misses\n";

int cache_usage(const std::string& why) {
  std::cerr << "fourinone ctl cache: " << why << "\n" << kCacheUsage;
  return 2;
}

}  // namespace

int ctl_cache(const Config& config, const Args& args, std::chrono::milliseconds timeout) {
  const auto& p = args.positional;  // p[0] == "cache"
  if (p.size() < 2) return cache_usage("no cache command given");
  const std::string& cmd = p[1];
  auto options = CacheOptions::from_config(config);
  if (!options.ok()) return fail(options.status());
  if (timeout.count() > 0) {
    options->call_timeout = timeout;
    options->park.call_timeout = timeout;
    options->park.connect_timeout = std::min(options->park.connect_timeout, timeout);
  }
  std::chrono::milliseconds ttl{0};
  if (auto t = args.value("ttl")) {
    auto seconds = parse_int("--ttl", *t);
    if (!seconds.ok()) return fail(seconds.status()), 2;
    if (seconds.value() < 0) return fail(Status(Errc::bad_request, "--ttl must not be negative")), 2;
    ttl = std::chrono::seconds(seconds.value());
  }
  std::uint64_t version = 0;
  if (auto v = args.value("version")) {
    auto n = parse_int("--version", *v);
    if (!n.ok() || n.value() <= 0) return fail(Status(Errc::bad_request, "--version needs a version of 1 or more")), 2;
    version = static_cast<std::uint64_t>(n.value());
  }
  auto want = [&](std::size_t n) { return p.size() == n + 2; };
  if (cmd == "get" && !want(1)) return cache_usage("get takes KEY");
  if (cmd == "set" && !want(2)) return cache_usage("set takes KEY VALUE");
  if (cmd == "rm" && !want(1)) return cache_usage("rm takes KEY");
  if (cmd == "stat" && !want(0)) return cache_usage("stat takes no arguments");
  if (cmd != "get" && cmd != "set" && cmd != "rm" && cmd != "stat") {
    return cache_usage("unknown cache command '" + cmd + "'");
  }
  if (args.has("add") && version != 0) return cache_usage("--add and --version do not go together");

  auto cache = Cache::connect(options.value());
  if (!cache.ok()) return fail(cache.status());
  Cache& c = *cache.value();
  if (cmd == "get") {
    auto item = c.get(p[2]);
    if (!item.ok()) return fail(item.status());
    std::cout << item->value << "\n";
    return 0;
  }
  if (cmd == "set") {
    Result<std::uint64_t> r = args.has("add")  ? c.add(p[2], p[3], ttl)
                              : version != 0   ? c.compare_and_set(p[2], p[3], version, ttl)
                                               : c.set(p[2], p[3], ttl);
    if (!r.ok()) return fail(r.status());
    std::cout << r.value() << "\n";
    return 0;
  }
  if (cmd == "rm") {
    auto item = c.remove(p[2], version);
    if (!item.ok()) return fail(item.status());
    std::cout << item->value << "\n";
    return 0;
  }
  auto stats = c.stats();
  if (!stats.ok()) return fail(stats.status());
  std::cout << "layout_version: " << c.layout_version() << "\n";
  for (const auto& s : stats.value()) {
    std::cout << "server: " << s.server << " group " << s.group << " " << s.role << " epoch " << s.epoch << " keys "
              << s.keys << " bytes " << s.bytes << "/" << s.max_bytes << " evictions " << s.evictions << " expired "
              << s.expired << " hits " << s.hits << " misses " << s.misses;
    if (s.role == "primary") std::cout << " backups_in_sync " << s.backups_in_sync;
    std::cout << "\n";
  }
  return 0;
}

}  // namespace fourinone::cli
