#include "tests/support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace fourinone::test {

namespace {

// Binds 127.0.0.1:port (0: any) and returns the port bound, or 0 when it is taken.
std::uint16_t try_bind(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return 0;
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// The lowest port the kernel hands out as a client socket's local port.
std::uint16_t ephemeral_low() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned low = 32768;
  in >> low;
  return static_cast<std::uint16_t>(std::clamp(low, 11000u, 65535u));
}

}  // namespace

std::uint16_t free_port() {
  // Below the ephemeral range: a port the kernel chose for us (bind to 0) comes from that
  // range, where every client connection of the tests running in parallel also takes its
  // local port, so between our check and the server's bind one of them could take it.
  static thread_local std::mt19937 pick(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
  const std::uint16_t high = ephemeral_low() - 1;
  std::uniform_int_distribution<int> ports(10000, high);
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (std::uint16_t port = try_bind(static_cast<std::uint16_t>(ports(pick)))) return port;
  }
  if (std::uint16_t port = try_bind(0)) return port;
  throw std::runtime_error("free_port: bind failed");
}

bool port_accepts(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

TempDir::TempDir() {
  std::random_device rd;
  auto base = std::filesystem::temp_directory_path();
  for (;;) {
    auto candidate = base / ("fourinone-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate.string();
      return;
    }
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

namespace {

pid_t spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err,
            const std::string& in) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in.empty() ? "/dev/null" : in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("spawn " + argv[0] + " failed: " + std::to_string(rc));
  return pid;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Process::Process(std::vector<std::string> argv, const std::string& log_prefix)
    : out_path_(log_prefix + ".out"), err_path_(log_prefix + ".err") {
  pid_ = spawn(argv, out_path_, err_path_, "");
}

Process::~Process() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(5));
  }
}

bool Process::running() {
  if (reaped_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = decode_status(status);
    return false;
  }
  return true;
}

void Process::signal(int sig) {
  if (!reaped_) ::kill(pid_, sig);
}

int Process::wait(std::chrono::milliseconds limit) {
  if (reaped_) return status_;
  if (!wait_until([this] { return !running(); }, limit)) return -1;
  return status_;
}

std::string Process::out() const { return read_file(out_path_); }
std::string Process::err() const { return read_file(err_path_); }

CliResult run_cli(const std::vector<std::string>& args, const std::string& input, std::chrono::milliseconds limit) {
  std::vector<std::string> argv{FOURINONE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, input, limit);
}

CliResult run_program(const std::vector<std::string>& argv, const std::string& input,
                      std::chrono::milliseconds limit) {
  TempDir dir;
  std::string in_path;
  if (!input.empty()) {
    in_path = dir.file("stdin");
    write_file(in_path, input);
  }
  pid_t pid = spawn(argv, dir.file("out"), dir.file("err"), in_path);
  CliResult result;
  int status = 0;
  bool done = wait_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, limit);
  if (!done) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    result.code = -1;
  } else {
    result.code = decode_status(status);
  }
  result.out = read_file(dir.file("out"));
  result.err = read_file(dir.file("err"));
  return result;
}

void write_test_config(const std::string& path, const std::string& servers,
                       const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> park{{"SERVERS", servers},
                                          {"DATADIR", "data"},
                                          {"SESSIONTIMEOUT", "2000"},
                                          {"HEARTBEAT", "300"},
                                          {"MAXDELAY", "0"}};
  // "ROW/ELEMENT" keys (e.g. "MQ/LEASE") go to that row; the others to PARK.
  std::map<std::string, std::map<std::string, std::string>> rows;
  for (const auto& [k, v] : extra) {
    auto slash = k.find('/');
    if (slash == std::string::npos) {
      park[k] = v;
    } else {
      rows[k.substr(0, slash)][k.substr(slash + 1)] = v;
    }
  }
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PROPSTABLE>\n  <PROPSROW DESC=\"PARK\">\n";
  for (const auto& [k, v] : park) xml += "    <" + k + ">" + v + "</" + k + ">\n";
  xml += "  </PROPSROW>\n";
  for (const auto& [row, elements] : rows) {
    xml += "  <PROPSROW DESC=\"" + row + "\">\n";
    for (const auto& [k, v] : elements) xml += "    <" + k + ">" + v + "</" + k + ">\n";
    xml += "  </PROPSROW>\n";
  }
  xml += "  <PROPSROW DESC=\"LOG\">\n    <LEVELNAME>info</LEVELNAME>\n  </PROPSROW>\n</PROPSTABLE>\n";
  write_file(path, xml);
}

ParkConfigFile write_park_config(const TempDir& dir, const std::map<std::string, std::string>& extra,
                                 std::uint16_t port) {
  ParkConfigFile file;
  file.port = port ? port : free_port();
  file.path = dir.file("config.xml");
  write_test_config(file.path, "127.0.0.1:" + std::to_string(file.port), extra);
  return file;
}

ScopedLogin::ScopedLogin(const std::string& user, const std::string& password) {
  ::setenv("FOURINONE_USER", user.c_str(), 1);
  ::setenv("FOURINONE_PASSWORD", password.c_str(), 1);
}

ScopedLogin::~ScopedLogin() {
  ::unsetenv("FOURINONE_USER");
  ::unsetenv("FOURINONE_PASSWORD");
}

std::uint64_t revision_in_status(const std::string& status) {
  auto at = status.find("revision: ");
  return at == std::string::npos ? 0 : std::stoull(status.substr(at + 10));
}

ParkServerProcess::ParkServerProcess(const ParkConfigFile& config, std::vector<std::string> extra_args)
    : config_(config), extra_args_(std::move(extra_args)) {}

ParkServerProcess::~ParkServerProcess() {
  if (process_ && process_->running()) stop();
}

bool ParkServerProcess::start() {
  std::vector<std::string> argv{FOURINONE_BIN, "park", "--config", config_.path};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  process_ = std::make_unique<Process>(argv, config_.path + ".park" + std::to_string(++starts_));
  return wait_until([this] { return port_accepts(config_.port) || !process_->running(); }, std::chrono::seconds(10)) &&
         process_->running();
}

int ParkServerProcess::stop() {
  if (!process_) return -1;
  process_->signal(SIGTERM);
  int code = process_->wait(std::chrono::seconds(10));
  if (code == -1) {
    process_->signal(SIGKILL);
    process_->wait(std::chrono::seconds(5));
  }
  return code;
}

void ParkServerProcess::kill() {
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait(std::chrono::seconds(5));
}

}  // namespace fourinone::test
