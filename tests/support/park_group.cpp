#include "tests/support/park_group.hpp"

#include <doctest/doctest.h>
#include <signal.h>

#include <sstream>

namespace fourinone::test {

ParkGroup::ParkGroup(std::size_t size, const Settings& extra, bool relays) {
  std::string servers;
  for (std::size_t i = 0; i < size; ++i) {
    ports_.push_back(free_port());
    servers += (i ? "," : "") + address(i);
  }
  config_path_ = dir_.file("config.xml");
  write_test_config(config_path_, servers, extra);
  if (relays) {
    relays_.resize(size);
    for (std::size_t from = 0; from < size; ++from) {
      relays_[from].resize(size);
      for (std::size_t to = 0; to < size; ++to) {
        if (from != to) relays_[from][to] = std::make_unique<TcpRelay>(ports_[to]);
      }
    }
  }
  members_.resize(size);
  starts_.resize(size, 0);
  configured_ = size;
}

std::size_t ParkGroup::add_spare() {
  REQUIRE_MESSAGE(relays_.empty(), "spare servers do not go through relays");
  ports_.push_back(free_port());
  members_.emplace_back();
  starts_.push_back(0);
  return ports_.size() - 1;
}

ParkGroup::~ParkGroup() {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (members_[i] && members_[i]->running()) kill(i);
  }
}

std::string ParkGroup::address(std::size_t i) const { return "127.0.0.1:" + std::to_string(ports_[i]); }

bool ParkGroup::start(std::size_t i) {
  std::vector<std::string> argv{FOURINONE_BIN, "park", "--config", config_path_, "--server", address(i)};
  if (i >= configured_) argv.push_back("--join");
  if (auto limit = fsize_limit_kib_.find(i); limit != fsize_limit_kib_.end() && limit->second != 0) {
    argv.insert(argv.begin(), {"/bin/bash", "-c", "ulimit -f " + std::to_string(limit->second) + " && exec \"$@\"", "park"});
  }
  if (!relays_.empty()) {
    std::string routes;
    for (std::size_t to = 0; to < size(); ++to) {
      if (to == i) continue;
      routes += (routes.empty() ? "" : ",") + address(to) + "=127.0.0.1:" + std::to_string(relays_[i][to]->port());
    }
    argv.insert(argv.end(), {"--peer-routes", routes});
  }
  members_[i] = std::make_unique<Process>(argv, dir_.file("member" + std::to_string(i) + "." + std::to_string(++starts_[i])));
  auto& p = *members_[i];
  return wait_until([&] { return port_accepts(ports_[i]) || !p.running(); }, std::chrono::seconds(10)) && p.running();
}

bool ParkGroup::start_all() {
  bool ok = true;
  for (std::size_t i = 0; i < size(); ++i) ok = start(i) && ok;
  return ok;
}

void ParkGroup::kill(std::size_t i) {
  if (!members_[i]) return;
  members_[i]->signal(SIGKILL);
  members_[i]->wait(std::chrono::seconds(5));
}

int ParkGroup::stop(std::size_t i) {
  if (!members_[i]) return -1;
  members_[i]->signal(SIGTERM);
  int code = members_[i]->wait(std::chrono::seconds(15));
  if (code == -1) kill(i);
  return code;
}

int ParkGroup::wait_exit(std::size_t i, std::chrono::milliseconds limit) {
  if (!members_[i]) return -1;
  return members_[i]->wait(limit);
}

std::string ParkGroup::log_of(std::size_t i) const { return members_[i] ? members_[i]->err() : std::string(); }

bool ParkGroup::running(std::size_t i) { return members_[i] && members_[i]->running(); }

std::string ParkGroup::status_of(std::size_t i) const {
  auto r = run_cli({"ctl", "--config", config_path_, "--server", address(i), "--timeout", "1000", "status"}, "",
                   std::chrono::seconds(5));
  return r.code == 0 ? r.out : std::string();
}

std::optional<std::size_t> ParkGroup::wait_for_leader(std::chrono::milliseconds limit) {
  return wait_for_leader_except(size(), limit);
}

std::optional<std::size_t> ParkGroup::wait_for_leader_except(std::size_t excluded, std::chrono::milliseconds limit) {
  std::optional<std::size_t> leader;
  wait_until(
      [&] {
        leader.reset();
        std::string agreed;
        for (std::size_t i = 0; i < size(); ++i) {
          if (i == excluded || !running(i)) continue;
          std::string status = status_of(i);
          auto at = status.find("\nleader: ");
          if (at == std::string::npos) return false;
          std::string name = status.substr(at + 9, status.find('\n', at + 9) - at - 9);
          if (name.empty() || (!agreed.empty() && name != agreed)) return false;
          agreed = name;
        }
        for (std::size_t i = 0; i < size(); ++i) {
          if (address(i) == agreed) leader = i;
        }
        return leader.has_value() && running(*leader);
      },
      limit);
  return leader;
}

void ParkGroup::isolate(std::size_t i) {
  for (std::size_t j = 0; j < size(); ++j) {
    if (j == i) continue;
    cut(i, j);
    cut(j, i);
  }
}

void ParkGroup::cut(std::size_t from, std::size_t to) {
  REQUIRE_MESSAGE(!relays_.empty(), "this group was made without relays");
  relays_[from][to]->set_blocked(true);
}

void ParkGroup::heal() {
  for (auto& row : relays_) {
    for (auto& relay : row) {
      if (relay) relay->set_blocked(false);
    }
  }
}

ParkOptions ParkGroup::options() const {
  ParkOptions o;
  for (std::size_t i = 0; i < configured_; ++i) o.servers.push_back(ServerAddress{"127.0.0.1", ports_[i]});
  o.session_timeout = std::chrono::milliseconds(2000);
  o.heartbeat = std::chrono::milliseconds(300);
  o.call_timeout = std::chrono::milliseconds(10000);
  o.connect_timeout = std::chrono::milliseconds(1000);
  return o;
}

ParkOptions ParkGroup::options_for(std::size_t i) const {
  ParkOptions o = options();
  o.servers = {ServerAddress{"127.0.0.1", ports_[i]}};
  return o;
}

std::unique_ptr<Park> ParkGroup::connect() const {
  auto park = Park::connect(options());
  REQUIRE_MESSAGE(park.ok(), park.status().to_string());
  return std::move(park).value();
}

}  // namespace fourinone::test
