// A TCP relay for partition tests: listens on a free loopback port and forwards every
// connection to a target port, until told to block. Blocking closes the connections it
// carries and drops new ones at once, as a cut cable would (the ends see resets/EOF rather
// than silence, which is what a host firewall's REJECT gives). Tests only.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

namespace fourinone::test {

class TcpRelay {
 public:
  explicit TcpRelay(std::uint16_t target_port);
  ~TcpRelay();
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  std::uint16_t port() const { return port_; }
  void set_blocked(bool blocked);
  bool blocked() const { return blocked_.load(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
  std::atomic<bool> blocked_{false};
};

}  // namespace fourinone::test
