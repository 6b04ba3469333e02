// SchedulerDemo: the JStorm pattern (SCENARIOS.md) on the library's recipes.
//
//   scheduler_demo demo       --config F   one command: 2 nimbus candidates, 3 supervisors (each
//                                          a process of this program); the elected nimbus
//                                          assigns 6 tasks over the live supervisors; the
//                                          nimbus is killed with kill -9; the standby takes
//                                          over and reassigns; a supervisor is killed; the
//                                          nimbus reassigns its tasks to the others
//   scheduler_demo nimbus     --config F --name N   a master candidate (LeaderElection)
//   scheduler_demo supervisor --config F --name S   a worker node (ServiceRegistry) that
//                                                   follows its assignment (ConfigSubscription)
//
// Assignments live in domain "scheduler.assignments", one node per supervisor, written by the
// leader with its term's fencing token (fenced_update): a deposed nimbus's late write is
// refused, so a supervisor never obeys an old master.
#include <fourinone/config_watch.hpp>
#include <fourinone/election.hpp>
#include <fourinone/lock.hpp>
#include <fourinone/park.hpp>
#include <fourinone/registry.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
constexpr const char* kElection = "scheduler.nimbus";
constexpr const char* kService = "scheduler.supervisors";
constexpr const char* kAssignments = "scheduler.assignments";
constexpr int kTasks = 6;

int fail(const std::string& what, const fourinone::Status& s) {
  std::cerr << "scheduler_demo: " << what << ": " << s.to_string() << std::endl;
  return 1;
}

// Tasks 0..kTasks-1 dealt round-robin over the live supervisors (sorted by name).
std::map<std::string, std::string> plan(const std::vector<fourinone::Instance>& live) {
  std::map<std::string, std::string> tasks;
  for (const auto& s : live) tasks[s.id];
  if (live.empty()) return tasks;
  for (int t = 0; t < kTasks; ++t) {
    std::string& list = tasks[live[static_cast<std::size_t>(t) % live.size()].id];
    list += (list.empty() ? "t" : ",t") + std::to_string(t);
  }
  return tasks;
}

int nimbus(const fourinone::Config& config, const std::string& name) {
  auto park = fourinone::Park::connect(config);
  if (!park.ok()) return fail("connect", park.status());
  fourinone::LeaderElection election(**park, kElection, name);
  std::atomic<bool> lost{false};
  election.on_lost([&](const fourinone::Status& why) {
    std::cout << "nimbus " << name << ": lost leadership (" << why.to_string() << ")" << std::endl;
    lost = true;
  });
  std::cout << "nimbus " << name << ": standing by" << std::endl;
  auto token = election.campaign();
  if (!token.ok()) return fail("campaign", token.status());
  std::cout << "nimbus " << name << ": leading, term token " << *token << std::endl;

  fourinone::ServiceRegistry registry(**park);
  std::mutex mutex;
  auto watch = registry.watch(kService, [&](const std::vector<fourinone::Instance>& live) {
    std::lock_guard lock(mutex);
    if (lost) return;
    for (const auto& [supervisor, tasks] : plan(live)) {
      auto r = fourinone::fenced_update(**park, kAssignments, supervisor, *token,
                                        [&](std::string_view) { return tasks; });
      if (!r.ok()) {
        std::cout << "nimbus " << name << ": assignment refused (" << r.status().to_string() << ")" << std::endl;
        return;
      }
    }
    std::cout << "nimbus " << name << ": " << live.size() << " supervisors live; tasks assigned" << std::endl;
  });
  if (!watch.ok()) return fail("watch supervisors", watch.status());
  while (!lost) std::this_thread::sleep_for(100ms);
  return 0;
}

int supervisor(const fourinone::Config& config, const std::string& name) {
  auto park = fourinone::Park::connect(config);
  if (!park.ok()) return fail("connect", park.status());
  fourinone::ServiceRegistry registry(**park);
  if (auto s = registry.register_instance(kService, name, "127.0.0.1:" + std::to_string(getpid())); !s.ok()) {
    return fail("register", s);
  }
  std::string mine;
  auto sub = fourinone::ConfigSubscription::subscribe(**park, kAssignments, [&](const fourinone::ConfigEvent& e) {
    std::string value;
    if (e.kind == fourinone::ConfigEvent::Kind::changed && e.node == name) value = e.value;
    for (const auto& n : e.state) {
      if (n.name == name) value = n.value;
    }
    if (value.empty()) return;
    auto space = value.find(' ');
    std::string tasks = space == std::string::npos ? "" : value.substr(space + 1);
    if (tasks != mine) {
      mine = tasks;
      std::cout << "supervisor " << name << ": running [" << tasks << "] (term token "
                << value.substr(0, space) << ")" << std::endl;
    }
  });
  if (!sub.ok()) return fail("subscribe", sub.status());
  for (;;) std::this_thread::sleep_for(1s);
}

pid_t spawn(const std::string& self, const std::string& config_path, const std::string& role, const std::string& name) {
  pid_t pid = fork();
  if (pid == 0) {
    execl(self.c_str(), self.c_str(), role.c_str(), "--config", config_path.c_str(), "--name", name.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Waits until the election names a leader other than `not_this` (empty: any); returns it.
std::string wait_for_leader(fourinone::Park& park, const std::string& not_this, std::chrono::seconds limit) {
  fourinone::LeaderElection observer(park, kElection, "observer");
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    auto leader = observer.leader();
    if (leader.ok() && leader->value != not_this) return leader->value;
    std::this_thread::sleep_for(50ms);
  }
  return "";
}

int demo(const std::string& self, const fourinone::Config& config, const std::string& config_path) {
  auto park = fourinone::Park::connect(config);
  if (!park.ok()) return fail("connect", park.status());
  std::map<std::string, pid_t> pids;
  auto stop_all = [&] {
    for (auto& [name, pid] : pids) {
      if (pid > 0) kill(pid, SIGTERM);
    }
    for (auto& [name, pid] : pids) {
      if (pid > 0) waitpid(pid, nullptr, 0);
    }
  };
  for (std::string s : {"s1", "s2", "s3"}) pids[s] = spawn(self, config_path, "supervisor", s);
  std::this_thread::sleep_for(500ms);
  pids["nimbus-a"] = spawn(self, config_path, "nimbus", "nimbus-a");
  std::this_thread::sleep_for(300ms);
  pids["nimbus-b"] = spawn(self, config_path, "nimbus", "nimbus-b");
  std::string leader = wait_for_leader(**park, "", 10s);
  if (leader.empty()) {
    stop_all();
    std::cerr << "scheduler_demo: no nimbus was elected" << std::endl;
    return 1;
  }
  std::this_thread::sleep_for(1s);
  std::cout << "== kill -9 the leading nimbus (" << leader << ")" << std::endl;
  auto killed_at = std::chrono::steady_clock::now();
  kill(pids[leader], SIGKILL);
  waitpid(pids[leader], nullptr, 0);
  pids[leader] = 0;
  std::string next = wait_for_leader(**park, leader, 15s);
  if (next.empty()) {
    stop_all();
    std::cerr << "scheduler_demo: the standby did not take over" << std::endl;
    return 1;
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at);
  std::cout << "== " << next << " took over " << ms.count() << " ms after the kill (session timeout "
            << config.park.session_timeout.count() << " ms)" << std::endl;
  std::this_thread::sleep_for(1s);
  std::cout << "== kill -9 supervisor s2: its tasks move to s1 and s3" << std::endl;
  kill(pids["s2"], SIGKILL);
  waitpid(pids["s2"], nullptr, 0);
  pids["s2"] = 0;
  std::this_thread::sleep_for(config.park.session_timeout + 2s);
  stop_all();
  std::cout << "== done" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: scheduler_demo demo|nimbus|supervisor --config F [--name N]\n";
    return 2;
  }
  std::string command = argv[1], config_path = "config.xml", name;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--config") == 0) config_path = argv[i + 1];
    if (std::strcmp(argv[i], "--name") == 0) name = argv[i + 1];
  }
  auto config = fourinone::load_config(config_path);
  if (!config.ok()) return fail("config", config.status());
  if (command == "demo") {
    // Children run this same program, found through /proc (argv[0] may be a bare name).
    char self[4096] = {};
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    return demo(n > 0 ? std::string(self, static_cast<std::size_t>(n)) : std::string(argv[0]), *config, config_path);
  }
  if (name.empty()) {
    std::cerr << "scheduler_demo: " << command << " needs --name\n";
    return 2;
  }
  if (command == "nimbus") return nimbus(*config, name);
  if (command == "supervisor") return supervisor(*config, name);
  std::cerr << "scheduler_demo: unknown command " << command << "\n";
  return 2;
}
