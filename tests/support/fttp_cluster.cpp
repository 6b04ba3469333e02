#include "tests/support/fttp_cluster.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>

namespace fourinone::test {

FttpCluster::FttpCluster(Settings settings) : settings_(std::move(settings)), park_port_(free_port()) {
  for (std::size_t i = 0; i < settings_.servers; ++i) {
    ports_.push_back(free_port());
    std::filesystem::create_directories(folder(i, "data"));
    std::filesystem::create_directories(folder(i, "ro"));
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PROPSTABLE>\n  <PROPSROW DESC=\"PARK\">\n";
    xml += "    <SERVERS>127.0.0.1:" + std::to_string(park_port_) + "</SERVERS>\n";
    xml += "    <DATADIR>data</DATADIR>\n    <SESSIONTIMEOUT>2000</SESSIONTIMEOUT>\n    <HEARTBEAT>300</HEARTBEAT>\n";
    if (!settings_.users.empty()) xml += "    <USERS>" + settings_.users + "</USERS>\n";
    xml += "  </PROPSROW>\n  <PROPSROW DESC=\"FTTP\">\n";
    xml += "    <SERVERS>" + address(i) + "</SERVERS>\n";
    xml += "    <ROOTS>data=" + folder(i, "data") + ",ro=" + folder(i, "ro") + ":ro</ROOTS>\n";
    xml += "    <CHUNK>" + settings_.chunk + "</CHUNK>\n    <THREADS>3</THREADS>\n";
    xml += "  </PROPSROW>\n  <PROPSROW DESC=\"LOG\">\n    <LEVELNAME>info</LEVELNAME>\n  </PROPSROW>\n</PROPSTABLE>\n";
    configs_.push_back(dir_.file("config" + std::to_string(i) + ".xml"));
    write_file(configs_.back(), xml);
  }
  servers_.resize(settings_.servers);
}

FttpCluster::~FttpCluster() {
  for (auto& p : servers_) {
    if (p && p->running()) p->signal(SIGTERM);
  }
  for (auto& p : servers_) {
    if (p && p->wait(std::chrono::seconds(5)) == -1) p->signal(SIGKILL);
  }
  servers_.clear();
  if (park_ && park_->running()) {
    park_->signal(SIGTERM);
    if (park_->wait(std::chrono::seconds(5)) == -1) park_->signal(SIGKILL);
  }
}

std::string FttpCluster::folder(std::size_t i, const std::string& root) const {
  return dir_.path() + "/s" + std::to_string(i) + "/" + root;
}

FttpUrl FttpCluster::url(std::size_t i, const std::string& root, const std::string& path) const {
  FttpUrl u;
  u.host = "127.0.0.1";
  u.port = ports_.at(i);
  u.root = root;
  u.path = path;
  return u;
}

std::string FttpCluster::log_of(std::size_t i) const { return servers_.at(i) ? servers_.at(i)->err() : ""; }

bool FttpCluster::start_park() {
  park_ = std::make_unique<Process>(std::vector<std::string>{FOURINONE_BIN, "park", "--config", configs_.at(0)},
                                    dir_.file("park"));
  return wait_until([&] { return port_accepts(park_port_) || !park_->running(); }, std::chrono::seconds(10)) &&
         park_->running();
}

bool FttpCluster::start(std::size_t i) {
  std::vector<std::string> argv{FOURINONE_BIN, "fttp", "--config", configs_.at(i), "--server", address(i)};
  if (i == 0 && !settings_.fsize_limit_kib.empty()) {
    // bash's ulimit -f counts KiB; the server ignores SIGXFSZ, so writes past it fail with EFBIG.
    argv.insert(argv.begin(), {"/bin/bash", "-c", "ulimit -f " + settings_.fsize_limit_kib + " && exec \"$@\"", "fttp"});
  }
  servers_.at(i) = std::make_unique<Process>(argv, dir_.file("fttp" + std::to_string(i)));
  auto& p = servers_.at(i);
  return wait_until([&] { return port_accepts(ports_.at(i)) || !p->running(); }, std::chrono::seconds(10)) &&
         p->running();
}

bool FttpCluster::start_all() {
  if (!start_park()) return false;
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    if (!start(i)) return false;
  }
  return true;
}

int FttpCluster::stop(std::size_t i) {
  auto& p = servers_.at(i);
  if (!p) return -1;
  p->signal(SIGTERM);
  return p->wait(std::chrono::seconds(10));
}

FttpOptions FttpCluster::options() const {
  FttpOptions o;
  o.chunk = static_cast<std::uint32_t>(*parse_config_bytes(settings_.chunk));
  o.connections = 3;
  o.window = 2;
  o.call_timeout = std::chrono::milliseconds(10000);
  return o;
}

std::unique_ptr<Fttp> FttpCluster::connect() const { return Fttp::connect(options()).value(); }

ParkOptions FttpCluster::park_options() const {
  ParkOptions o;
  o.servers = {ServerAddress{"127.0.0.1", park_port_}};
  o.session_timeout = std::chrono::milliseconds(2000);
  o.heartbeat = std::chrono::milliseconds(300);
  return o;
}

}  // namespace fourinone::test
