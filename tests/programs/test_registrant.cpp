// Registers one service instance and waits to be killed, for the registry tests:
// `fourinone_test_registrant PORT SERVICE ID ADDRESS [KEY=VALUE...]`. Prints "registered"
// once the instance is in the park.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>

#include "fourinone/park.hpp"
#include "fourinone/registry.hpp"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s PORT SERVICE ID ADDRESS [KEY=VALUE...]\n", argv[0]);
    return 2;
  }
  fourinone::ParkOptions options;
  options.servers = {fourinone::ServerAddress{"127.0.0.1", static_cast<std::uint16_t>(std::atoi(argv[1]))}};
  options.session_timeout = std::chrono::milliseconds(2000);
  options.heartbeat = std::chrono::milliseconds(300);
  auto park = fourinone::Park::connect(options);
  if (!park.ok()) {
    std::fprintf(stderr, "%s\n", park.status().to_string().c_str());
    return 1;
  }
  std::map<std::string, std::string> metadata;
  for (int i = 5; i < argc; ++i) {
    std::string kv = argv[i];
    auto eq = kv.find('=');
    if (eq != std::string::npos) metadata[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  fourinone::ServiceRegistry registry(**park);
  if (auto s = registry.register_instance(argv[2], argv[3], argv[4], metadata); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return 1;
  }
  std::printf("registered\n");
  std::fflush(stdout);
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(60));
}
