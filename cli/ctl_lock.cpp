// fourinone ctl lock / elect: run a command while holding a lock or while leading, like
// flock(1). The command gets the fencing token in FOURINONE_FENCING_TOKEN; if the lock or the
// leadership is lost while it runs (the session expired), it is stopped with SIGTERM and ctl
// exits 1, because another holder may act from now on.
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <string_view>
#include <vector>
#include <iostream>
#include <thread>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "fourinone/election.hpp"
#include "fourinone/lock.hpp"

namespace fourinone::cli {
namespace {

constexpr auto kPoll = std::chrono::milliseconds(50);
// After SIGTERM, how long the command may take to exit before SIGKILL.
constexpr auto kTermGrace = std::chrono::seconds(5);

std::atomic<int> g_signal{0};
void on_signal(int sig) { g_signal = sig; }

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// Waits up to `limit` for the child; its exit code, or -1 if it still runs.
int reap(pid_t child, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child) return exit_code_of(status);
    if (r < 0) return 1;
    if (std::chrono::steady_clock::now() >= end) return -1;
    std::this_thread::sleep_for(kPoll);
  }
}

// Runs `command` with FOURINONE_FENCING_TOKEN=token while `still_ours` holds. Returns the
// command's exit code (128+N when killed by signal N), or 1 when it had to be stopped.
int run_guarded(const std::vector<std::string>& command, std::uint64_t token, const std::string& what,
                const std::function<bool()>& still_ours) {
  std::string token_text = std::to_string(token);
  std::cerr << "fourinone: " << what << ", fencing token " << token_text << std::endl;
  // Everything the child needs is built before fork: the park client's threads may hold the
  // allocator's locks at that moment, so the child must not allocate.
  std::vector<char*> argv;
  for (const auto& word : command) argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  std::string token_entry = "FOURINONE_FENCING_TOKEN=" + token_text;
  std::vector<char*> env;
  for (char** e = environ; *e; ++e) {
    if (std::string_view(*e).rfind("FOURINONE_FENCING_TOKEN=", 0) != 0) env.push_back(*e);
  }
  env.push_back(token_entry.data());
  env.push_back(nullptr);
  std::string cannot_run = "fourinone: cannot run " + command[0] + "\n";
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  pid_t child = fork();
  if (child < 0) return fail(Status(Errc::internal, "fork failed"));
  if (child == 0) {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    execvpe(argv[0], argv.data(), env.data());
    (void)!::write(2, cannot_run.data(), cannot_run.size());
    _exit(127);
  }
  bool forwarded = false;
  for (;;) {
    int code = reap(child, kPoll);
    if (code >= 0) return code;
    if (int sig = g_signal.load(); sig != 0 && !forwarded) {
      ::kill(child, sig);  // ours to pass on; we keep holding until the command exits
      forwarded = true;
    }
    if (!still_ours()) {
      std::cerr << "fourinone: lost " << what << " (session expired); stopping " << command[0] << std::endl;
      ::kill(child, SIGTERM);
      if (reap(child, kTermGrace) < 0) {
        ::kill(child, SIGKILL);
        (void)reap(child, kTermGrace);
      }
      return 1;
    }
  }
}

std::chrono::milliseconds wait_flag(const Args& args, Status& error) {
  auto w = args.value("wait");
  if (!w) return kWaitForever;
  auto ms = parse_int("--wait", *w);
  if (!ms.ok() || ms.value() < 0) {
    error = Status(Errc::bad_request, "--wait needs milliseconds");
    return {};
  }
  return std::chrono::milliseconds(ms.value());
}

}  // namespace

int ctl_lock(Park& park, const Args& args) {
  const auto& p = args.positional;  // "lock" NAME COMMAND...
  if (p.size() < 3) {
    std::cerr << "fourinone ctl: lock takes NAME [--wait MS] -- COMMAND ARGS...\n";
    return 2;
  }
  Status bad;
  auto wait = wait_flag(args, bad);
  if (!bad.ok()) return fail(bad);
  DistributedLock lock(park, p[1]);
  auto token = lock.try_lock(wait);
  if (!token.ok()) return fail(token.status());
  int code = run_guarded({p.begin() + 2, p.end()}, token.value(), "lock " + p[1],
                         [&] { return lock.held(); });
  (void)lock.unlock();  // a lost lock answers session_expired: nothing left to release
  return code;
}

int ctl_elect(Park& park, const Args& args) {
  const auto& p = args.positional;  // "elect" NAME COMMAND...
  if (p.size() < 3) {
    std::cerr << "fourinone ctl: elect takes NAME [--value V] [--wait MS] -- COMMAND ARGS...\n";
    return 2;
  }
  Status bad;
  auto wait = wait_flag(args, bad);
  if (!bad.ok()) return fail(bad);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string value = args.value_or("value", std::string(host) + ":" + std::to_string(::getpid()));
  LeaderElection election(park, p[1], value);
  auto token = election.campaign(wait);
  if (!token.ok()) return fail(token.status());
  int code = run_guarded({p.begin() + 2, p.end()}, token.value(), "leadership of " + p[1],
                         [&] { return election.is_leader(); });
  (void)election.resign();
  return code;
}

}  // namespace fourinone::cli
