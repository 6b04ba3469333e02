// A queue consumer that leases messages and never acks them, for the tests that kill a
// consumer between receive and ack: `fourinone_test_consumer CONFIG QUEUE COUNT`.
// Prints "leased OFFSET..." once it holds COUNT messages (or what arrived within 10 s),
// then sleeps until killed.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "fourinone/mq.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s CONFIG QUEUE COUNT\n", argv[0]);
    return 2;
  }
  auto config = fourinone::load_config(argv[1]);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().to_string().c_str());
    return 1;
  }
  auto options = fourinone::MqOptions::from_config(*config);
  if (!options.ok()) return 1;
  options->park.session_timeout = std::chrono::milliseconds(2000);
  options->park.heartbeat = std::chrono::milliseconds(300);
  auto mq = fourinone::Mq::connect(*options);
  if (!mq.ok()) {
    std::fprintf(stderr, "%s\n", mq.status().to_string().c_str());
    return 1;
  }
  auto got = (*mq)->receive(argv[2], static_cast<std::size_t>(std::atoi(argv[3])), std::chrono::seconds(10));
  if (!got.ok()) {
    std::fprintf(stderr, "%s\n", got.status().to_string().c_str());
    return 1;
  }
  std::printf("leased");
  for (const auto& m : *got) std::printf(" %llu", static_cast<unsigned long long>(m.offset));
  std::printf("\n");
  std::fflush(stdout);
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(60));
}
