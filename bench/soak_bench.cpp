// soak_bench: many park sessions held for a long time while the group's servers are killed
// and restarted one after another (bench/soak.sh runs it; issue 17).
//
//   soak_bench --config F --pids HOST:PORT=PID,... --restart 'COMMAND %s'
//              [--sessions 1000] [--duration 1800] [--kill-every 60] [--down 5]
//              [--write-every 10] [--rss-log FILE]
//
// Every session is a Park client of its own (one connection, its own session), all in this
// process: each holds a heartbeat node soak.hb/sI, watches one of ten config nodes
// (soak.cfg/cK, updated by a controller once a second in turn) and creates a unique node
// (soak.wD/sI-N) every --write-every seconds, one write in flight at most. Every --kill-every
// seconds one member gets SIGKILL, round-robin over the members (the leader too, when its turn
// comes); --down seconds later the restart command (%s = HOST:PORT; it must print the new
// pid) starts it again. Meanwhile it samples each server's VmRSS (/proc/PID/status) every
// 10 s and checks every 30 s that each session's heartbeat node is there and owned by that
// session. At the end it reads back every acknowledged create and prints a Markdown summary:
// sessions expired wrongly (expired state, session_expired, or a heartbeat node gone while
// its client kept heartbeating; goal 0), lost acknowledged writes (goal 0), writes acked,
// failovers, watch events (and gaps), and each server's memory at start and at end.
#include <fourinone/park.hpp>
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/percentile.hpp"

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using fourinone::Errc;

namespace {

constexpr int kWriteDomains = 64;  // acknowledged creates spread over soak.w0..63
constexpr int kConfigNodes = 10;   // soak.cfg/c0..9, each watched by a tenth of the sessions

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// VmRSS of a process in KiB; 0 when it is gone.
long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

// The process is gone or a zombie (SIGKILL delivered; its ports are free).
bool dead(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return true;
  auto paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z';
}

std::string mib(long kib) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(kib) / 1024.0);
  return text;
}

struct Session {
  int id = 0;
  std::unique_ptr<fourinone::Park> park;
  std::unique_ptr<fourinone::Watch> watch;
  std::atomic<bool> write_pending{false};
  std::uint64_t writes = 0;                   // writer thread only
  std::atomic<std::uint64_t> hb_session{0};   // the session owning soak.hb/sI; 0 while (re)made
  std::atomic<bool> needs_reopen{false};
  std::atomic<bool> wronged{false};           // expired wrongly at least once
  std::uint64_t last_version = 0;             // callback thread: the watched node's version

  ~Session() {  // the client first: its callbacks touch the fields above
    watch.reset();
    park.reset();
  }
};

struct Member {
  std::string address;
  pid_t pid = 0;
  Clock::time_point started;
  int kills = 0;
  long rss_start = 0;
  bool led_at_start = false;
  std::vector<std::pair<double, long>> before_kill;  // (age in s, VmRSS KiB) at each kill
};

class Soak {
 public:
  // Flags.
  std::string config_path = "config.xml";
  int sessions = 1000;
  std::chrono::seconds duration{1800};
  std::chrono::seconds kill_every{60};
  std::chrono::seconds down{5};
  std::chrono::seconds write_every{10};
  std::string restart_command;
  std::string rss_log;
  std::vector<Member> members;

  int run();

 private:
  bool setup_sessions();
  bool make_heartbeat(Session& s);
  void writer();
  void controller();
  void checker();
  void sampler();
  void kill_and_restart(Member& m);
  void check_heartbeats();
  std::string leader();  // the leader's HOST:PORT as the control client's server knows it
  void on_write(Session& s, const std::string& name, Clock::time_point sent, const fourinone::Result<fourinone::Node>& r);
  bool sleep_for(Clock::duration d);  // false once stopping
  void print_summary(std::size_t lost, std::size_t verify_failures);

  fourinone::ParkOptions options_;
  std::unique_ptr<fourinone::Park> control_;
  std::vector<std::unique_ptr<Session>> sessions_;
  Clock::time_point started_;

  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::atomic<bool> writing_{true};

  std::mutex mutex_;  // guards what follows
  std::vector<std::string> acked_;
  std::map<std::string, std::uint64_t> write_errors_;
  std::optional<Clock::time_point> leader_killed_at_;
  std::vector<double> failover_ms_;
  std::set<int> wronged_sessions_;
  std::ofstream rss_out_;

  std::atomic<std::uint64_t> expired_events_{0};
  std::atomic<std::uint64_t> expired_errors_{0};
  std::atomic<std::uint64_t> vanished_{0};
  std::atomic<std::uint64_t> watch_events_{0};
  std::atomic<std::uint64_t> watch_gaps_{0};
  std::atomic<std::uint64_t> watch_resyncs_{0};
  std::atomic<std::uint64_t> skipped_writes_{0};
  std::atomic<std::uint64_t> config_updates_{0};
  std::atomic<std::uint64_t> heartbeat_checks_{0};
  int kills_ = 0;
  int leader_kills_ = 0;
  std::string leader_at_end_;
};

bool Soak::sleep_for(Clock::duration d) {
  std::unique_lock lock(stop_mutex_);
  return !stop_cv_.wait_for(lock, d, [&] { return stopping_; });
}

// Opens a session (a new one after an expiry) and creates soak.hb/sI in it.
bool Soak::make_heartbeat(Session& s) {
  s.hb_session = 0;
  if (s.park->session_state() != fourinone::SessionState::connected && !s.park->open_session().ok()) return false;
  std::string name = "s" + std::to_string(s.id);
  fourinone::CreateOptions heartbeat;
  heartbeat.heartbeat = true;
  auto r = s.park->create("soak.hb", name, "alive", heartbeat);
  if (!r.ok() && r.status().code() == Errc::exists) {
    // A retried create that had landed, or the node of an earlier session of ours.
    auto node = s.park->get("soak.hb", name);
    if (node.ok() && node->session == s.park->session_id()) {
      s.hb_session = node->session;
      return true;
    }
    return false;
  }
  if (!r.ok()) {
    if (r.status().code() == Errc::session_expired) expired_errors_++;
    return false;
  }
  s.hb_session = r->session;
  return true;
}

bool Soak::setup_sessions() {
  sessions_.resize(static_cast<std::size_t>(sessions));
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> makers;
  for (int t = 0; t < 8; ++t) {
    makers.emplace_back([&] {
      for (int i = next++; i < sessions; i = next++) {
        auto s = std::make_unique<Session>();
        s->id = i;
        bool ok = false;
        for (int attempt = 0; attempt < 5 && !ok; ++attempt) {
          auto park = fourinone::Park::connect(options_);
          if (!park.ok()) {
            std::this_thread::sleep_for(500ms);
            continue;
          }
          s->park = std::move(park).value();
          ok = make_heartbeat(*s);
        }
        if (!ok) {
          failed++;
          continue;
        }
        Session* raw = s.get();
        raw->park->on_session_state([this, raw](fourinone::SessionState state) {
          if (state != fourinone::SessionState::expired) return;
          expired_events_++;
          raw->needs_reopen = true;
          raw->wronged = true;
          std::lock_guard lock(mutex_);
          wronged_sessions_.insert(raw->id);
        });
        auto watch = raw->park->watch("soak.cfg", "c" + std::to_string(i % kConfigNodes), 0,
                                      [this, raw](const fourinone::WatchEvent& e) {
                                        watch_events_++;
                                        if (e.type == fourinone::WatchEvent::Type::resync) {
                                          watch_resyncs_++;
                                          raw->last_version = 0;
                                          return;
                                        }
                                        if (raw->last_version != 0 && e.node.version != raw->last_version + 1) watch_gaps_++;
                                        raw->last_version = e.node.version;
                                      });
        if (watch.ok()) raw->watch = std::move(watch).value();
        else failed++;
        sessions_[static_cast<std::size_t>(i)] = std::move(s);
      }
    });
  }
  for (auto& t : makers) t.join();
  if (failed > 0) std::cerr << failed << " sessions could not be set up\n";
  return failed == 0;
}

void Soak::on_write(Session& s, const std::string& name, Clock::time_point sent,
                    const fourinone::Result<fourinone::Node>& r) {
  const auto now = Clock::now();
  {
    std::lock_guard lock(mutex_);
    if (r.ok() || r.status().code() == Errc::exists) {  // exists: a retried create that had landed
      acked_.push_back(name);
      if (leader_killed_at_ && sent > *leader_killed_at_) {
        failover_ms_.push_back(std::chrono::duration<double, std::milli>(now - *leader_killed_at_).count());
        leader_killed_at_.reset();
      }
    } else {
      write_errors_[fourinone::errc_name(r.status().code())]++;
    }
  }
  s.write_pending = false;
}

// One create every write_every per session, spread evenly; a session whose last write is
// still open skips its turn.
void Soak::writer() {
  const auto gap = std::chrono::duration_cast<Clock::duration>(write_every) / sessions;
  auto next = Clock::now();
  for (std::size_t k = 0; writing_.load(); ++k) {
    next += gap;
    std::this_thread::sleep_until(next);
    Session& s = *sessions_[k % sessions_.size()];
    if (s.write_pending.exchange(true)) {
      skipped_writes_++;
      continue;
    }
    std::string domain = "soak.w" + std::to_string(s.id % kWriteDomains);
    std::string name = "s" + std::to_string(s.id) + "-" + std::to_string(++s.writes);
    auto sent = Clock::now();
    s.park->async_create(domain, name, "x", {},
                         [this, &s, name, sent](fourinone::Result<fourinone::Node> r) { on_write(s, name, sent, r); });
  }
}

// Updates the watched config nodes, one a second in turn.
void Soak::controller() {
  for (int k = 0; sleep_for(1s); ++k) {
    if (control_->update("soak.cfg", "c" + std::to_string(k % kConfigNodes), std::to_string(k)).ok()) config_updates_++;
  }
}

void Soak::check_heartbeats() {
  auto nodes = control_->list("soak.hb");
  if (!nodes.ok()) return;  // an election: next time
  std::map<std::string, std::uint64_t> owner;
  for (const auto& n : nodes.value()) owner[n.name] = n.session;
  heartbeat_checks_++;
  for (auto& s : sessions_) {
    std::uint64_t session = s->hb_session.load();
    if (session == 0 || s->needs_reopen) continue;  // being made again after an expiry
    auto it = owner.find("s" + std::to_string(s->id));
    if (it != owner.end() && it->second == session) continue;
    // Look again: the session may have expired (and been counted) since the list.
    if (s->hb_session.load() != session || s->needs_reopen) continue;
    vanished_++;
    std::cerr << "heartbeat node s" << s->id << " of session " << session << " is gone at "
              << static_cast<int>(seconds_since(started_)) << " s\n";
    s->wronged = true;
    s->needs_reopen = true;
    std::lock_guard lock(mutex_);
    wronged_sessions_.insert(s->id);
  }
}

// Every 30 s: the heartbeat nodes; at once: sessions to make again after an expiry.
void Soak::checker() {
  auto next_check = Clock::now() + 30s;
  while (sleep_for(1s)) {
    for (auto& s : sessions_) {
      if (s->needs_reopen.load() && make_heartbeat(*s)) s->needs_reopen = false;
    }
    if (Clock::now() >= next_check) {
      check_heartbeats();
      next_check = Clock::now() + 30s;
    }
  }
}

std::string Soak::leader() {
  auto st = control_->status();
  return st.ok() ? st->leader : std::string();
}

// The CSV: seconds into the run, server, pid, the process's age in s, VmRSS KiB (0: down),
// L when it leads.
void Soak::sampler() {
  do {
    const std::string leading = leader();
    std::lock_guard lock(mutex_);
    for (auto& m : members) {
      long rss = rss_kib(m.pid);
      if (rss_out_) {
        rss_out_ << static_cast<int>(seconds_since(started_)) << "," << m.address << "," << m.pid << ","
                 << static_cast<int>(seconds_since(m.started)) << "," << rss << "," << (m.address == leading ? "L" : "")
                 << "\n";
      }
    }
    if (rss_out_) rss_out_.flush();
  } while (sleep_for(10s));
}

void Soak::kill_and_restart(Member& m) {
  const bool was_leader = leader() == m.address;
  {
    std::lock_guard lock(mutex_);
    m.before_kill.emplace_back(seconds_since(m.started), rss_kib(m.pid));
    if (was_leader) leader_killed_at_ = Clock::now();
  }
  ::kill(m.pid, SIGKILL);
  for (int i = 0; i < 500 && !dead(m.pid); ++i) std::this_thread::sleep_for(10ms);
  kills_++;
  m.kills++;
  if (was_leader) leader_kills_++;
  std::cout << "[" << static_cast<int>(seconds_since(started_)) << " s] kill -9 " << m.address
            << (was_leader ? " (the leader)" : "") << std::endl;
  std::this_thread::sleep_for(down);
  std::string command = restart_command;
  if (auto at = command.find("%s"); at != std::string::npos) command.replace(at, 2, m.address);
  FILE* out = ::popen(command.c_str(), "r");
  char line[64] = {};
  pid_t pid = 0;
  if (out && std::fgets(line, sizeof line, out)) pid = static_cast<pid_t>(std::atol(line));
  if (out) ::pclose(out);
  std::lock_guard lock(mutex_);
  if (pid > 0) {
    m.pid = pid;
    m.started = Clock::now();
  } else {
    std::cerr << "restart of " << m.address << " printed no pid\n";
  }
}

int Soak::run() {
  auto config = fourinone::load_config(config_path);
  if (!config.ok()) return std::cerr << config.status().to_string() << "\n", 1;
  options_ = fourinone::ParkOptions::from_config(config.value());
  if (!rss_log.empty()) rss_out_.open(rss_log);
  auto control = fourinone::Park::connect(options_);
  if (!control.ok()) return std::cerr << control.status().to_string() << "\n", 1;
  control_ = std::move(control).value();
  for (int k = 0; k < kConfigNodes; ++k) {
    auto r = control_->create("soak.cfg", "c" + std::to_string(k), "0");
    if (!r.ok() && r.status().code() != Errc::exists) return std::cerr << r.status().to_string() << "\n", 1;
  }

  auto setup_at = Clock::now();
  if (!setup_sessions()) return 1;
  std::cout << sessions << " sessions (one connection and one session each, 2 client threads each) set up in "
            << static_cast<int>(seconds_since(setup_at)) << " s" << std::endl;
  started_ = Clock::now();
  std::thread writer_thread([this] { writer(); });
  std::thread controller_thread([this] { controller(); });
  std::thread checker_thread([this] { checker(); });
  // Memory at start: every session connected and the load running for 15 s.
  std::this_thread::sleep_for(15s);
  {
    const std::string leading = leader();
    std::lock_guard lock(mutex_);
    for (auto& m : members) {
      m.rss_start = rss_kib(m.pid);
      m.led_at_start = m.address == leading;
    }
  }
  std::thread sampler_thread([this] { sampler(); });

  for (int k = 1;; ++k) {
    auto at = started_ + k * kill_every;
    if (at + down + 10s > started_ + duration) break;  // the last one restarted runs a while
    std::this_thread::sleep_until(at);
    kill_and_restart(members[static_cast<std::size_t>(k - 1) % members.size()]);
    std::lock_guard lock(mutex_);
    std::cout << "[" << static_cast<int>(seconds_since(started_)) << " s] " << acked_.size() << " writes acked, "
              << wronged_sessions_.size() << " sessions expired wrongly" << std::endl;
  }
  std::this_thread::sleep_until(started_ + duration);

  // Memory at end, with the load still on.
  std::map<std::string, long> rss_end;
  std::map<std::string, double> age_end;
  leader_at_end_ = leader();
  {
    std::lock_guard lock(mutex_);
    for (auto& m : members) {
      rss_end[m.address] = rss_kib(m.pid);
      age_end[m.address] = seconds_since(m.started);
    }
  }
  writing_ = false;
  writer_thread.join();
  for (int i = 0; i < 1500; ++i) {  // open writes finish within their call timeout
    bool open = std::any_of(sessions_.begin(), sessions_.end(), [](auto& s) { return s->write_pending.load(); });
    if (!open) break;
    std::this_thread::sleep_for(10ms);
  }
  check_heartbeats();  // the last look, before stopping the checker
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  controller_thread.join();
  checker_thread.join();
  sampler_thread.join();

  // Read back every acknowledged create.
  std::set<std::string> present;
  std::size_t verify_failures = 0;
  for (int d = 0; d < kWriteDomains; ++d) {
    fourinone::Result<std::vector<fourinone::Node>> nodes = fourinone::Status(Errc::unavailable, "not tried");
    for (int attempt = 0; attempt < 5 && !nodes.ok(); ++attempt) nodes = control_->list("soak.w" + std::to_string(d));
    if (!nodes.ok()) {
      if (nodes.status().code() != Errc::not_found) verify_failures++;
      continue;
    }
    for (const auto& n : nodes.value()) present.insert(n.name);
  }
  std::size_t lost = 0;
  {
    std::lock_guard lock(mutex_);
    for (const auto& name : acked_) lost += present.count(name) ? 0 : 1;
  }
  for (auto& m : members) {
    m.before_kill.emplace_back(age_end[m.address], rss_end[m.address]);  // the last entry: the end
  }
  print_summary(lost, verify_failures);

  // Close the sessions in parallel (each close is a round trip).
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> closers;
  for (int t = 0; t < 8; ++t) {
    closers.emplace_back([&] {
      for (std::size_t i = next++; i < sessions_.size(); i = next++) sessions_[i].reset();
    });
  }
  for (auto& t : closers) t.join();
  return lost == 0 && verify_failures == 0 && wronged_sessions_.empty() ? 0 : 3;
}

void Soak::print_summary(std::size_t lost, std::size_t verify_failures) {
  std::lock_guard lock(mutex_);
  const double run_s = seconds_since(started_);
  std::uint64_t errors = 0;
  std::ostringstream error_text;
  for (const auto& [code, n] : write_errors_) {
    errors += n;
    error_text << (error_text.tellp() > 0 ? ", " : "") << code << " " << n;
  }
  std::cout << "== summary\n";
  std::cout << "- sessions: " << sessions << ", each a Park client with its own connection and session "
            << "(2 client threads each, all in one process), holding a heartbeat node and a watch, "
            << "one create every " << write_every.count() << " s\n";
  std::cout << "- ran " << static_cast<int>(run_s) << " s; SIGKILL of one server every " << kill_every.count()
            << " s round-robin, restarted " << down.count() << " s later: " << kills_ << " kills, " << leader_kills_
            << " of them of the leader (failovers)\n";
  if (!failover_ms_.empty()) {
    std::cout << "- leader kill -> first write acked after it: median " << static_cast<int>(bench::percentile(failover_ms_, 0.5))
              << " ms, max " << static_cast<int>(*std::max_element(failover_ms_.begin(), failover_ms_.end()))
              << " ms (" << failover_ms_.size() << " failovers measured)\n";
  }
  std::cout << "- writes acked: " << acked_.size() << " (" << static_cast<int>(static_cast<double>(acked_.size()) / run_s)
            << "/s); not acked (ambiguous, never counted): " << errors << (errors ? " (" + error_text.str() + ")" : "")
            << "; turns skipped with a write still open: " << skipped_writes_.load() << "\n";
  std::cout << "- **lost acknowledged writes: " << lost << "** (every acknowledged create read back at the end"
            << (verify_failures ? "; " + std::to_string(verify_failures) + " domains could not be read" : "") << ")\n";
  std::cout << "- **sessions expired wrongly: " << wronged_sessions_.size() << "** (expired events "
            << expired_events_.load() << ", session_expired errors " << expired_errors_.load()
            << ", heartbeat nodes gone while their client heartbeated " << vanished_.load() << "; "
            << heartbeat_checks_.load() << " checks of all heartbeat nodes)\n";
  std::cout << "- watches: " << watch_events_.load() << " events delivered for " << config_updates_.load()
            << " config updates; version gaps " << watch_gaps_.load() << ", resyncs " << watch_resyncs_.load() << "\n";
  std::cout << "\n| server | VmRSS at start | at end | growth | kills | process age at end | VmRSS before each kill "
               "(process age) |\n|---|---|---|---|---|---|---|\n";
  for (const auto& m : members) {
    const long end = m.before_kill.empty() ? 0 : m.before_kill.back().second;
    std::ostringstream kills;
    for (std::size_t i = 0; i + 1 < m.before_kill.size(); ++i) {
      kills << (i ? ", " : "") << mib(m.before_kill[i].second) << " (" << static_cast<int>(m.before_kill[i].first) << " s)";
    }
    char growth[32];
    std::snprintf(growth, sizeof growth, "%+.1f MiB", static_cast<double>(end - m.rss_start) / 1024.0);
    std::cout << "| " << m.address << " | " << mib(m.rss_start) << (m.led_at_start ? " (leader)" : "") << " | "
              << mib(end) << (m.address == leader_at_end_ ? " (leader)" : "") << " | " << growth << " | "
              << m.kills << " | " << static_cast<int>(m.before_kill.back().first) << " s | "
              << (kills.tellp() > 0 ? kills.str() : "-") << " |\n";
  }
  if (auto st = control_->status(); st.ok()) {
    std::cout << "\nstore at the end: " << st->nodes << " nodes, " << st->bytes / 1024 << " KiB accounted, "
              << st->sessions << " sessions, revision " << st->revision << "\n";
  }
  std::cout.flush();
}

}  // namespace

int main(int argc, char** argv) {
  Soak soak;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], v = argv[i + 1];
    if (flag == "--config") soak.config_path = v;
    else if (flag == "--sessions") soak.sessions = std::stoi(v);
    else if (flag == "--duration") soak.duration = std::chrono::seconds(std::stoi(v));
    else if (flag == "--kill-every") soak.kill_every = std::chrono::seconds(std::stoi(v));
    else if (flag == "--down") soak.down = std::chrono::seconds(std::stoi(v));
    else if (flag == "--write-every") soak.write_every = std::chrono::seconds(std::stoi(v));
    else if (flag == "--restart") soak.restart_command = v;  // shell command; %s = HOST:PORT
    else if (flag == "--rss-log") soak.rss_log = v;
    else if (flag == "--pids") {
      std::stringstream items(v);
      std::string item;
      while (std::getline(items, item, ',')) {
        auto eq = item.find('=');
        Member m;
        m.address = item.substr(0, eq);
        m.pid = static_cast<pid_t>(std::stol(item.substr(eq + 1)));
        m.started = Clock::now();
        soak.members.push_back(m);
      }
    } else {
      std::cerr << "unknown option " << flag << "\n";
      return 2;
    }
  }
  if (soak.members.empty() || soak.restart_command.empty() || soak.sessions < 1) {
    std::cerr << "usage: soak_bench --config F --pids HOST:PORT=PID,... --restart 'COMMAND %s' [--sessions N] "
                 "[--duration S] [--kill-every S] [--down S] [--write-every S] [--rss-log FILE]\n";
    return 2;
  }
  std::sort(soak.members.begin(), soak.members.end(), [](auto& a, auto& b) { return a.address < b.address; });
  return soak.run();
}
