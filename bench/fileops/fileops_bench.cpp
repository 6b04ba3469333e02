// fileops_bench: fttp throughput against a plain baseline, for bench/fileops.sh.
//
//   fileops_bench --config F --server-a HOST:PORT --server-b HOST:PORT --root NAME
//                 --dir-a FOLDER --dir-b FOLDER [--mib N] [--connections C]
//
// Servers A and B are two `fourinone fttp` processes; root NAME is FOLDER-A on A and FOLDER-B
// on B (the script gives each server its own config). The file is N MiB (default 1024) of
// pseudo-random bytes, written to FOLDER-A first. Each figure is printed as
//   R NAME MIB_PER_S
// and as a readable line. The page cache stays warm for every run, ours and the baseline's
// alike, so the figures compare the protocols, not the disk.
//
// Workloads:
//   raw_read      the file sent over one raw TCP connection by a child process (read(2) of
//                 4 MiB, write(2) to the socket), received into a reused buffer
//   fttp_read_1   download(url, /dev/null) with 1 connection
//   fttp_read_C   the same with C connections (parallel blocks)
//   raw_write     N MiB from memory over one raw TCP connection to a child process, which
//                 writes them to a file and fsyncs it
//   fttp_write_1  write_file(url, bytes) with 1 connection (two-phase: temp file, fsync, rename)
//   fttp_write_C  the same with C connections
//   cp            a local copy (read/write of 4 MiB, fsync), the baseline of...
//   fttp_copy     copy(A's file, B's file): server to server, two-phase at B
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "fourinone/config.hpp"
#include "fourinone/fileops.hpp"

namespace {

constexpr std::size_t kBlock = 4u << 20;

[[noreturn]] void die(const std::string& why) {
  std::cerr << "fileops_bench: " << why << "\n";
  std::exit(1);
}

void check(const fourinone::Status& s, const std::string& what) {
  if (!s.ok()) die(what + ": " + s.to_string());
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void report(const std::string& name, std::uint64_t bytes, double seconds) {
  const double mib_s = static_cast<double>(bytes) / (1 << 20) / seconds;
  std::printf("R %s %.1f\n", name.c_str(), mib_s);
  std::printf("  %-14s %8.1f MiB/s  (%.2f s)\n", name.c_str(), mib_s, seconds);
  std::fflush(stdout);
}

// Writes all of `data` to `fd`, or dies.
void write_all(int fd, const char* data, std::size_t size, const char* what) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die(std::string(what) + ": " + std::strerror(errno));
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

// A listening socket on 127.0.0.1 and an ephemeral port.
int listen_loopback(std::uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 1) != 0) {
    die(std::string("listen: ") + std::strerror(errno));
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

int connect_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    die(std::string("connect: ") + std::strerror(errno));
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Runs `child` in a forked process that first accepts one connection on a fresh port; the
// parent gets a connected socket. Returns the child's pid.
pid_t fork_peer(int& socket_fd, const std::function<void(int)>& child) {
  std::uint16_t port = 0;
  const int listener = listen_loopback(port);
  const pid_t pid = ::fork();
  if (pid < 0) die("fork failed");
  if (pid == 0) {
    const int conn = ::accept(listener, nullptr, nullptr);
    if (conn < 0) _exit(1);
    child(conn);
    ::close(conn);
    _exit(0);
  }
  ::close(listener);
  socket_fd = connect_loopback(port);
  return pid;
}

void reap(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("the baseline's child process failed");
}

// The file over one raw TCP connection: a child reads and sends it; we receive and drop it.
void raw_read(const std::string& path, std::uint64_t size) {
  int fd = -1;
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork_peer(fd, [&](int conn) {
    const int file = ::open(path.c_str(), O_RDONLY);
    if (file < 0) _exit(1);
    std::vector<char> buffer(kBlock);
    for (;;) {
      const ssize_t n = ::read(file, buffer.data(), buffer.size());
      if (n < 0) _exit(1);
      if (n == 0) break;
      write_all(conn, buffer.data(), static_cast<std::size_t>(n), "raw send");
    }
    ::close(file);
  });
  std::vector<char> buffer(kBlock);
  std::uint64_t got = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  reap(pid);
  if (got != size) die("raw read got " + std::to_string(got) + " bytes of " + std::to_string(size));
  report("raw_read", size, seconds_since(start));
}

// `data` over one raw TCP connection to a child that writes it to `path` and fsyncs.
void raw_write(const std::string& path, const std::string& data) {
  int fd = -1;
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork_peer(fd, [&](int conn) {
    const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (file < 0) _exit(1);
    std::vector<char> buffer(kBlock);
    for (;;) {
      const ssize_t n = ::read(conn, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) _exit(1);
      if (n == 0) break;
      write_all(file, buffer.data(), static_cast<std::size_t>(n), "raw write");
    }
    if (::fsync(file) != 0) _exit(1);
    ::close(file);
    write_all(conn, "k", 1, "raw ack");  // done: the file is durable
  });
  write_all(fd, data.data(), data.size(), "raw send");
  ::shutdown(fd, SHUT_WR);
  char ack = 0;
  if (::read(fd, &ack, 1) != 1) die("raw write: no acknowledgement");
  ::close(fd);
  reap(pid);
  report("raw_write", data.size(), seconds_since(start));
}

void local_copy(const std::string& from, const std::string& to, std::uint64_t size) {
  const auto start = std::chrono::steady_clock::now();
  const int in = ::open(from.c_str(), O_RDONLY);
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || out < 0) die("cp: cannot open the files");
  std::vector<char> buffer(kBlock);
  for (;;) {
    const ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n < 0) die("cp: read failed");
    if (n == 0) break;
    write_all(out, buffer.data(), static_cast<std::size_t>(n), "cp");
  }
  if (::fsync(out) != 0) die("cp: fsync failed");
  ::close(in);
  ::close(out);
  report("cp", size, seconds_since(start));
}

std::string pseudo_random_bytes(std::uint64_t size) {
  std::string data(size, '\0');
  std::mt19937_64 random(42);
  for (std::uint64_t i = 0; i + 8 <= size; i += 8) {
    const std::uint64_t word = random();
    std::memcpy(&data[i], &word, 8);
  }
  return data;
}

std::unique_ptr<fourinone::Fttp> client(const fourinone::FttpOptions& base, std::size_t connections) {
  fourinone::FttpOptions options = base;
  options.connections = connections;
  auto fttp = fourinone::Fttp::connect(options);
  check(fttp.status(), "connect");
  return std::move(fttp).value();
}

fourinone::FttpUrl url_of(const std::string& server, const std::string& root, const std::string& name) {
  auto url = fourinone::FttpUrl::parse("fttp://" + server + "/" + root + "/" + name);
  check(url.status(), "url");
  return url.value();
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strncmp(argv[i], "--", 2) != 0) die(std::string("unexpected argument ") + argv[i]);
    flags[argv[i] + 2] = argv[i + 1];
  }
  if (argc % 2 == 0) die("every flag takes a value (see the top of bench/fileops/fileops_bench.cpp)");
  for (const char* needed : {"config", "server-a", "server-b", "root", "dir-a", "dir-b"}) {
    if (!flags.count(needed)) die(std::string("--") + needed + " is required");
  }
  const std::uint64_t size = std::stoull(flags.count("mib") ? flags["mib"] : "1024") << 20;
  const std::size_t parallel = std::stoul(flags.count("connections") ? flags["connections"] : "4");
  const std::string root = flags["root"], a = flags["server-a"], b = flags["server-b"];
  const std::string dir_a = flags["dir-a"], dir_b = flags["dir-b"];

  auto config = fourinone::load_config(flags["config"]);
  check(config.status(), "config");
  auto options = fourinone::FttpOptions::from_config(config.value());
  check(options.status(), "FTTP row");

  const std::string data = pseudo_random_bytes(size);
  {
    const int fd = ::open((dir_a + "/source").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("cannot write the source file in " + dir_a);
    write_all(fd, data.data(), data.size(), "source");
    ::close(fd);
  }
  std::printf("file: %llu MiB, chunk %u bytes, window %zu, parallel connections %zu\n",
              static_cast<unsigned long long>(size >> 20), options->chunk, options->window, parallel);

  raw_read(dir_a + "/source", size);
  for (std::size_t c : {std::size_t{1}, parallel}) {
    auto fttp = client(options.value(), c);
    const auto start = std::chrono::steady_clock::now();
    auto got = fttp->download(url_of(a, root, "source"), "/dev/null");
    check(got.status(), "download");
    if (got.value() != size) die("download got " + std::to_string(got.value()) + " bytes");
    report("fttp_read_" + std::to_string(c), size, seconds_since(start));
  }

  raw_write(dir_b + "/raw_written", data);
  for (std::size_t c : {std::size_t{1}, parallel}) {
    auto fttp = client(options.value(), c);
    const auto start = std::chrono::steady_clock::now();
    check(fttp->write_file(url_of(b, root, "written_" + std::to_string(c)), data), "write_file");
    report("fttp_write_" + std::to_string(c), size, seconds_since(start));
  }

  local_copy(dir_a + "/source", dir_a + "/cp_copy", size);
  {
    auto fttp = client(options.value(), 1);
    const auto start = std::chrono::steady_clock::now();
    auto copied = fttp->copy(url_of(a, root, "source"), url_of(b, root, "copied"));
    check(copied.status(), "copy");
    if (copied.value() != size) die("copy moved " + std::to_string(copied.value()) + " bytes");
    report("fttp_copy", size, seconds_since(start));
    // The copy must be the file: spot-check a block in the middle through fttp.
    auto middle = fttp->read(url_of(b, root, "copied"), size / 2, 4096);
    check(middle.status(), "read back");
    if (middle.value() != data.substr(size / 2, 4096)) die("the copy differs from the source");
  }
  return 0;
}
