// The sub-commands of the `fourinone` binary. Each returns the process exit code:
// 0 success, 1 an error (printed to stderr), 2 a usage error.
#pragma once

#include <chrono>

#include "cli/args.hpp"
#include "fourinone/config.hpp"
#include "fourinone/park.hpp"

namespace fourinone::cli {

int park_command(int argc, char** argv);    // fourinone park [--config F] [--server HOST:PORT]
int up_command(int argc, char** argv);      // fourinone up [--config F]
int ctl_command(int argc, char** argv);     // fourinone ctl [--config F] <command> ...
int passwd_command(int argc, char** argv);  // fourinone passwd USER [--iterations N]
int cache_command(int argc, char** argv);   // fourinone cache [--config F] --server HOST:PORT
int fttp_command(int argc, char** argv);    // fourinone fttp [--config F] --server HOST:PORT
// fourinone ctl ... cache <command>: args.positional[0] is "cache"; timeout 0: the default.
int ctl_cache(const Config& config, const Args& args, std::chrono::milliseconds timeout);
// fourinone ctl ... mq <command>: args.positional[0] is "mq"; `park` has ctl's --server,
// --timeout and --stale applied.
int ctl_mq(const Config& config, const Args& args, const ParkOptions& park);
const char* ctl_mq_usage();  // for `fourinone ctl mq --help`
// fourinone ctl ... fttp ls|get|put|cp|rm|stat|mkdir|mv|servers: positional[0] is "fttp".
int ctl_fttp(const Config& config, const Args& args, const ParkOptions& park, std::chrono::milliseconds timeout);
const char* ctl_fttp_usage();
// fourinone ctl ... lock|elect NAME [--wait MS] [--value V] -- COMMAND...: positional[0] is
// "lock" or "elect"; runs COMMAND while holding the lock or while leading.
int ctl_lock(Park& park, const Args& args);
int ctl_member(Park& park, const Args& args);
int ctl_elect(Park& park, const Args& args);
// fourinone ctl ... services SERVICE: the live instances of a registry service.
int ctl_services(Park& park, const Args& args);

}  // namespace fourinone::cli
