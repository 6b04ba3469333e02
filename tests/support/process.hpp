// Test support: free loopback ports, temporary folders, child processes, waiting with a
// deadline (never a bare sleep), and a park server fixture. Tests only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fourinone::test {

// A TCP port on 127.0.0.1 that was free a moment ago.
std::uint16_t free_port();

// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);

// Polls `done` every 10 ms until it is true or `limit` passes; returns its last answer.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit);

// FOURINONE_USER / FOURINONE_PASSWORD set for this scope: the login of the CLI processes a
// test runs (ctl, and the status calls of ParkGroup) and of clients reading the environment.
struct ScopedLogin {
  ScopedLogin(const std::string& user, const std::string& password);
  ~ScopedLogin();
  ScopedLogin(const ScopedLogin&) = delete;
  ScopedLogin& operator=(const ScopedLogin&) = delete;
};

// A child process with stdout and stderr going to files. Killed (SIGKILL) on destruction if
// still running.
class Process {
 public:
  Process(std::vector<std::string> argv, const std::string& log_prefix);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits up to `limit` for exit; returns the exit code, 128+signal, or -1 on timeout.
  int wait(std::chrono::milliseconds limit);
  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
  std::string out_path_;
  std::string err_path_;
};

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs the program argv[0] with its arguments to completion (at most `limit`, then SIGKILL
// and code -1), feeding `input` on stdin.
CliResult run_program(const std::vector<std::string>& argv, const std::string& input = "",
                      std::chrono::milliseconds limit = std::chrono::seconds(30));

// Runs `fourinone ARGS...` the same way.
CliResult run_cli(const std::vector<std::string>& args, const std::string& input = "",
                  std::chrono::milliseconds limit = std::chrono::seconds(30));

// A config.xml for one park server on a free port in `dir`, with extra PARK elements.
struct ParkConfigFile {
  std::string path;
  std::uint16_t port = 0;
};
// Writes a test config.xml: PARK with SERVERS, short timeouts and `extra` elements; LOG at info.
void write_test_config(const std::string& path, const std::string& servers,
                       const std::map<std::string, std::string>& extra = {});

// The "revision: N" of `fourinone ctl status` output (0 if absent).
std::uint64_t revision_in_status(const std::string& status);

ParkConfigFile write_park_config(const TempDir& dir, const std::map<std::string, std::string>& extra = {},
                                 std::uint16_t port = 0);

// Starts `fourinone park --config path` and waits until it accepts connections.
class ParkServerProcess {
 public:
  explicit ParkServerProcess(const ParkConfigFile& config, std::vector<std::string> extra_args = {});
  ~ParkServerProcess();
  bool start();  // (re)starts; true once it accepts connections within 10 s
  // SIGTERM and wait: the clean shutdown; returns the exit code.
  int stop();
  void kill();  // SIGKILL, the crash
  Process* process() { return process_.get(); }
  const ParkConfigFile& config() const { return config_; }

 private:
  ParkConfigFile config_;
  std::vector<std::string> extra_args_;
  std::unique_ptr<Process> process_;
  int starts_ = 0;
};

bool port_accepts(std::uint16_t port);

}  // namespace fourinone::test
