// fourinone up: starts every park, cache and fttp server of config.xml that lives on this
// host, each as a child `fourinone ROLE --config F --server HOST:PORT` logging to its own file, and stops
// them all on SIGINT/SIGTERM (DESIGN §7). A child that dies is said so on the output and
// started again after a back-off (1 s, doubling up to 30 s; back to 1 s once a child has run
// for a minute), so a crash loop neither spins nor hides: every death and restart is a line,
// and `up` exits 1 at the end when any child died on its own. --no-restart only reports.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cache/cache_config.hpp"
#include "fileops/fttp_config.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "fourinone/config.hpp"

namespace fourinone::cli {
namespace {

volatile sig_atomic_t g_stop_signal = 0;
void on_stop_signal(int sig) { g_stop_signal = sig; }

// A host is ours when one of its addresses can be bound here (port 0: nothing is taken).
bool is_local_host(const std::string& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return false;
  bool local = false;
  for (addrinfo* a = found; a && !local; a = a->ai_next) {
    int fd = ::socket(a->ai_family, SOCK_STREAM, 0);
    if (fd < 0) continue;
    if (a->ai_family == AF_INET) reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_port = 0;
    if (a->ai_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_port = 0;
    local = ::bind(fd, a->ai_addr, a->ai_addrlen) == 0;
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return local;
}

pid_t start_member(const std::string& self_exe, const char* role, const std::string& config_path,
                   const ServerAddress& server, const std::string& log_path, bool no_sync) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
  }
  std::string address = server.to_string();
  std::vector<const char*> argv{self_exe.c_str(), role, "--config", config_path.c_str(), "--server", address.c_str()};
  if (no_sync) argv.push_back("--no-sync");
  argv.push_back(nullptr);
  ::execv(self_exe.c_str(), const_cast<char* const*>(argv.data()));
  std::perror("fourinone up: exec");
  ::_exit(127);
}

// A child as up knows it: what to start again when it dies.
struct Member {
  std::string role;
  ServerAddress server;
  std::string log_name;
  std::chrono::steady_clock::time_point started;
  std::chrono::seconds backoff{1};  // the wait before the next restart
  int restarts = 0;
};

constexpr std::chrono::seconds kFirstBackoff{1};
constexpr std::chrono::seconds kMaxBackoff{30};
constexpr std::chrono::seconds kStableAfter{60};  // a child that ran this long starts over at 1 s

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + ::strsignal(WTERMSIG(status));
  return "stopped";
}

}  // namespace

int up_command(int argc, char** argv) {
  auto args = parse_args(argc, argv, 2, {"config"}, {"help", "no-sync", "no-restart"});
  if (!args.ok()) return fail(args.status()), 2;
  if (args->has("help")) {
    std::cout << "usage: fourinone up [--config F]\n"
                 "Starts every park server of PARK/SERVERS, every cache server of the CACHEGROUP rows and every\n"
                 "file server of FTTP/SERVERS in F (default ./config.xml) whose host is this machine, each\n"
                 "logging to DATADIR/HOST_PORT.log (cache servers: DATADIR/cache_HOST_PORT.log, file servers:\n"
                 "DATADIR/fttp_HOST_PORT.log), and stops them all on Ctrl-C or SIGTERM. A server that dies is\n"
                 "started again after 1 s, 2 s, 4 s ... up to 30 s (--no-restart: only reported); the exit\n"
                 "code is 1 when any server died on its own.\n";
    return 0;
  }
  std::string config_path = std::filesystem::absolute(args->value_or("config", "config.xml")).string();
  auto config = load_config(config_path);
  if (!config.ok()) return fail(config.status());
  std::string data_dir = config->resolved_data_dir();
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return fail(Status(Errc::internal, "cannot create " + data_dir + ": " + ec.message()));
  std::string self_exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) return fail(Status(Errc::internal, "cannot find this program: " + ec.message()));

  struct sigaction sa{};
  sa.sa_handler = on_stop_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  auto cache_settings = cache::load_cache_settings(config.value());
  if (!cache_settings.ok()) return fail(cache_settings.status());
  auto fttp_settings = fileops::load_fttp_settings(config.value());
  if (!fttp_settings.ok()) return fail(fttp_settings.status());

  const bool restart = !args->has("no-restart");
  std::map<pid_t, Member> running;
  std::vector<std::pair<std::chrono::steady_clock::time_point, Member>> waiting;  // restarts due then
  auto launch = [&](Member member) {
    std::string log = data_dir + "/" + member.log_name + ".log";
    pid_t pid = start_member(self_exe, member.role.c_str(), config_path, member.server, log, args->has("no-sync"));
    if (pid < 0) {
      std::cerr << "fourinone up: cannot start " << member.role << " " << member.server.to_string() << ": "
                << std::strerror(errno) << "\n";
      return;
    }
    member.started = std::chrono::steady_clock::now();
    std::cout << member.role << " " << member.server.to_string() << " pid " << pid << " log " << log;
    if (member.restarts > 0) std::cout << " (restart " << member.restarts << ")";
    std::cout << std::endl;
    running[pid] = std::move(member);
  };
  auto start = [&](const char* role, const ServerAddress& server, const std::string& log_name) {
    launch(Member{role, server, log_name, {}, kFirstBackoff, 0});
  };
  for (const auto& server : config->park.servers) {
    if (is_local_host(server.host)) start("park", server, server.host + "_" + std::to_string(server.port));
  }
  // Cache servers find the park by themselves (they wait for it to elect a leader).
  for (const auto& group : cache_settings->groups) {
    for (const auto& server : group.servers) {
      if (is_local_host(server.host)) start("cache", server, "cache_" + server.host + "_" + std::to_string(server.port));
    }
  }
  // File servers too: they serve files at once and register in the park when it is up.
  for (const auto& server : fttp_settings->servers) {
    if (is_local_host(server.host)) start("fttp", server, "fttp_" + server.host + "_" + std::to_string(server.port));
  }
  if (running.empty()) {
    return fail(Status(Errc::config_error, config_path + ": no server of PARK/SERVERS, CACHEGROUP or FTTP/SERVERS is on this host"));
  }

  int failures = 0;
  bool stopping = false;
  bool parks_signalled = false;
  auto stop_deadline = std::chrono::steady_clock::time_point::max();
  auto parks_deadline = std::chrono::steady_clock::time_point::max();
  auto signal_role = [&](bool park, int sig) {
    for (const auto& [pid, member] : running) {
      if ((member.role == "park") == park) ::kill(pid, sig);
    }
  };
  while (!running.empty() || (!waiting.empty() && !g_stop_signal)) {
    if (g_stop_signal && !stopping) {
      // Cache servers first, while the park can still take their goodbyes; then the park.
      stopping = true;
      waiting.clear();
      std::cout << "stopping " << running.size() << " server(s)" << std::endl;
      signal_role(false, SIGTERM);
      parks_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      stop_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    }
    if (stopping && !parks_signalled) {
      bool caches_left = std::any_of(running.begin(), running.end(), [](const auto& r) { return r.second.role != "park"; });
      if (!caches_left || std::chrono::steady_clock::now() > parks_deadline) {
        parks_signalled = true;
        signal_role(true, SIGTERM);
      }
    }
    if (stopping && std::chrono::steady_clock::now() > stop_deadline) {
      for (const auto& [pid, member] : running) ::kill(pid, SIGKILL);
      stop_deadline = std::chrono::steady_clock::time_point::max();
    }
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      auto it = running.find(pid);
      if (it == running.end()) continue;
      bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (!clean || !stopping) ++failures;
      Member member = std::move(it->second);
      running.erase(it);
      const auto now = std::chrono::steady_clock::now();
      const auto ran = std::chrono::duration_cast<std::chrono::seconds>(now - member.started);
      std::cout << member.role << " " << member.server.to_string() << " " << describe_exit(status) << " after "
                << ran.count() << " s";
      if (stopping || !restart) {
        std::cout << std::endl;
        continue;
      }
      // A child that ran a while died of something new: start over with a short wait.
      if (ran >= kStableAfter) member.backoff = kFirstBackoff;
      std::cout << "; restarting in " << member.backoff.count() << " s" << std::endl;
      const auto due = now + member.backoff;
      member.backoff = std::min(member.backoff * 2, kMaxBackoff);
      ++member.restarts;
      waiting.emplace_back(due, std::move(member));
      continue;
    }
    if (!stopping) {
      const auto now = std::chrono::steady_clock::now();
      for (auto w = waiting.begin(); w != waiting.end();) {
        if (w->first > now) {
          ++w;
          continue;
        }
        Member member = std::move(w->second);
        w = waiting.erase(w);
        launch(std::move(member));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace fourinone::cli
