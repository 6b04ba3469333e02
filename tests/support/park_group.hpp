// A park group of real `fourinone park` processes on free loopback ports, for integration and
// fault tests: start, find the leader, kill -9 / stop / restart members, connect clients.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fourinone/park.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tcp_relay.hpp"

namespace fourinone::test {

class ParkGroup {
 public:
  using Settings = std::map<std::string, std::string>;

  // Writes config.xml with `size` servers and starts none of them. With `relays`, servers
  // reach each other only through TcpRelays (one per direction), which isolate() and cut()
  // block; clients still reach every server directly.
  explicit ParkGroup(std::size_t size, const Settings& extra = {}, bool relays = false);
  ~ParkGroup();

  std::size_t size() const { return ports_.size(); }
  // A spare server: a free port not in config.xml's SERVERS, started with --join (it waits to
  // be added with fourinone ctl member add). Returns its index. Not with relays.
  std::size_t add_spare();
  const std::string& config_path() const { return config_path_; }
  const TempDir& dir() const { return dir_; }
  std::string address(std::size_t i) const;  // "127.0.0.1:PORT"

  // Member i's next starts run under `ulimit -f KIB` (a full disk: writes past it fail with
  // EFBIG); 0 lifts the limit again.
  void limit_file_size(std::size_t i, std::uint64_t kib) { fsize_limit_kib_[i] = kib; }
  // Waits up to `limit` for member i to exit; its exit code, or -1 if it still runs.
  int wait_exit(std::size_t i, std::chrono::milliseconds limit);
  // Starts member i (0-based) and waits until it accepts connections.
  bool start(std::size_t i);
  bool start_all();
  void kill(std::size_t i);         // SIGKILL
  int stop(std::size_t i);          // SIGTERM; the exit code
  bool running(std::size_t i);
  std::string log_of(std::size_t i) const;  // the current process's stderr (its log)

  // The member every running member agrees leads (status of each), within `limit`.
  std::optional<std::size_t> wait_for_leader(std::chrono::milliseconds limit = std::chrono::seconds(10));
  // The same, asking only the running members other than `excluded` (a cut-off server).
  std::optional<std::size_t> wait_for_leader_except(std::size_t excluded,
                                                    std::chrono::milliseconds limit = std::chrono::seconds(10));
  // One member's view (fourinone ctl status against it alone); empty on failure.
  std::string status_of(std::size_t i) const;

  // Partitions (groups made with relays only).
  void isolate(std::size_t i);                  // cut i off from every other server, both ways
  void cut(std::size_t from, std::size_t to);   // messages from `from` no longer reach `to`
  void heal();                                  // every relay passes traffic again

  ParkOptions options() const;  // the SERVERS of config.xml (no spares), test-friendly timeouts
  std::unique_ptr<Park> connect() const;
  // A config listing only member i: clients pinned to one server.
  ParkOptions options_for(std::size_t i) const;

 private:
  TempDir dir_;
  std::string config_path_;
  std::vector<std::uint16_t> ports_;
  std::vector<std::unique_ptr<Process>> members_;
  std::vector<int> starts_;
  std::size_t configured_ = 0;  // members [0, configured_) are in config.xml
  std::map<std::size_t, std::uint64_t> fsize_limit_kib_;
  std::vector<std::vector<std::unique_ptr<TcpRelay>>> relays_;  // [from][to]
};

}  // namespace fourinone::test
