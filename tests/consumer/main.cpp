// Uses only the installed public headers: typed values, a WareHouse, config parsing, and a
// park connection and a contractor's worker lookup against a server that is not there (which
// must fail cleanly, not hang).
#include <fourinone/config.hpp>
#include <fourinone/contractor.hpp>
#include <fourinone/park.hpp>
#include <fourinone/value.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

// A loopback port nobody listens on: bind to port 0, note the port, close.
std::uint16_t unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("unused_port");
    std::exit(2);
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

int main() {
  auto bytes = fourinone::encode_value(std::int64_t{42});
  auto back = fourinone::decode_value<std::int64_t>(bytes);
  if (!back.ok() || back.value() != 42) {
    std::fprintf(stderr, "value round trip failed\n");
    return 1;
  }

  fourinone::ParkOptions options;
  options.servers = {fourinone::ServerAddress{"127.0.0.1", unused_port()}};
  options.connect_timeout = std::chrono::milliseconds(1000);
  auto park = fourinone::Park::connect(options);
  if (park.ok() || park.status().code() != fourinone::Errc::unavailable) {
    std::fprintf(stderr, "expected unavailable, got: %s\n", park.status().to_string().c_str());
    return 1;
  }
  fourinone::WareHouse task{{"mailbox", 7}, {"user", "ann"}};
  auto decoded = fourinone::WareHouse::decode(task.encode());
  if (!decoded.ok() || decoded.value() != task) {
    std::fprintf(stderr, "WareHouse round trip failed\n");
    return 1;
  }

  struct Echo : fourinone::Contractor {
    using Contractor::Contractor;
    fourinone::WareHouse give_task(const fourinone::WareHouse& in) override { return in; }
  };
  fourinone::Config config;
  config.park.servers = options.servers;
  Echo contractor(config);
  auto workers = contractor.get_waiting_workers("mail");
  if (workers.ok() || workers.status().code() != fourinone::Errc::unavailable) {
    std::fprintf(stderr, "expected unavailable from the contractor, got: %s\n", workers.status().to_string().c_str());
    return 1;
  }
  std::printf("consumer ok: %s\n", park.status().to_string().c_str());
  return 0;
}
