// The compute samples as users run them: real worker and contractor processes of
// samples/word_count and samples/mail_fetch against a real park server.
#include <doctest/doctest.h>
#include <signal.h>

#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fourinone/lock.hpp"
#include "tests/support/park_fixture.hpp"

using namespace std::chrono_literals;
using fourinone::test::Process;
using fourinone::test::RunningPark;

namespace {

std::string sample(const std::string& name) { return std::string(FOURINONE_BINARY_DIR) + "/samples/" + name; }

// Worker processes of one sample, stopped with SIGTERM at the end; each must exit 0.
struct SampleWorkers {
  SampleWorkers(const RunningPark& park, std::string program) : park(park), program(std::move(program)) {}

  Process& start() {
    std::vector<std::string> argv{sample(program), "worker", "--config", park.config.path};
    all.push_back(std::make_unique<Process>(argv, park.dir.file(program + std::to_string(all.size()))));
    return *all.back();
  }

  // SIGTERM to every worker still running; CHECKs that each exits 0 (deregistered cleanly).
  void stop_all() {
    for (auto& w : all) {
      if (w->running()) w->signal(SIGTERM);
    }
    for (auto& w : all) {
      if (killed.count(w.get())) continue;
      CHECK_MESSAGE(w->wait(10s) == 0, "worker log: " << w->err());
    }
    all.clear();
  }

  ~SampleWorkers() {
    for (auto& w : all) {
      if (w->running()) w->signal(SIGKILL);
    }
  }

  const RunningPark& park;
  std::string program;
  std::vector<std::unique_ptr<Process>> all;
  std::set<Process*> killed;
};

}  // namespace

TEST_CASE("the word count sample over /usr/share/common-licenses equals a single-process count") {
  RunningPark park;
  SampleWorkers workers(park, "word_count_demo");
  for (int i = 0; i < 3; ++i) workers.start();
  auto run = fourinone::test::run_program({sample("word_count_demo"), "contractor", "--config", park.config.path,
                                           "--workers-expected", "3", "--check", "/usr/share/common-licenses"},
                                          "", 60s);
  INFO(run.out, run.err);
  CHECK(run.code == 0);
  CHECK(run.out.find("single-process check: OK") != std::string::npos);
  CHECK(run.out.find("the ") != std::string::npos);  // "the" is the top word of licence text
  workers.stop_all();
}

TEST_CASE("the mail-fetch farm finishes every mailbox exactly as one process would, though a worker is killed and another joins") {
  RunningPark park;
  SampleWorkers workers(park, "mail_fetch_demo");
  workers.start();
  workers.start();
  Process& victim = workers.start();
  auto contractor = std::make_unique<Process>(
      std::vector<std::string>{sample("mail_fetch_demo"), "contractor", "--config", park.config.path, "--mailboxes",
                               "300", "--workers-expected", "3"},
      park.dir.file("mail_contractor"));
  std::this_thread::sleep_for(1500ms);  // the job is under way
  REQUIRE(contractor->running());
  victim.signal(SIGKILL);
  workers.killed.insert(&victim);
  workers.start();
  const int code = contractor->wait(60s);
  INFO(contractor->out(), contractor->err());
  CHECK(code == 0);
  CHECK(contractor->out().find("all 300 mailboxes fetched, results match a single-process run") != std::string::npos);
  workers.stop_all();
}

TEST_CASE("two mail-fetch contractors take turns under the round lock; the record of rounds is fenced and in order") {
  RunningPark park;
  SampleWorkers workers(park, "mail_fetch_demo");
  workers.start();
  workers.start();
  std::vector<std::unique_ptr<Process>> contractors;
  for (int i = 0; i < 2; ++i) {
    contractors.push_back(std::make_unique<Process>(
        std::vector<std::string>{sample("mail_fetch_demo"), "contractor", "--config", park.config.path, "--mailboxes",
                                 "60", "--workers-expected", "2", "--rounds", "2"},
        park.dir.file("round_contractor" + std::to_string(i))));
  }
  for (auto& c : contractors) {
    const int code = c->wait(90s);
    INFO(c->out(), c->err());
    CHECK(code == 0);
    CHECK(c->out().find("2 worker(s) in the registry service workers.mailfetch") != std::string::npos);
    CHECK(c->out().find("round 2 recorded in mailfetch/rounds") != std::string::npos);
  }

  // Four rounds, recorded in lock order: tokens grow, and no round overlaps another.
  auto park_client = park.connect();
  auto rounds = fourinone::fenced_read(*park_client, "mailfetch", "rounds");
  REQUIRE(rounds.ok());
  std::istringstream lines(rounds->payload);
  std::string line;
  std::vector<std::array<std::int64_t, 3>> seen;  // token, start, end
  std::set<std::string> pids;
  while (std::getline(lines, line)) {
    std::int64_t token = 0, start = 0, end = 0;
    char pid[32] = {};
    REQUIRE_MESSAGE(std::sscanf(line.c_str(), "token=%" SCNd64 " pid=%31s start_ms=%" SCNd64 " end_ms=%" SCNd64, &token,
                                pid, &start, &end) == 4,
                    line);
    CHECK(line.find("mailboxes=60") != std::string::npos);
    pids.insert(pid);
    seen.push_back({token, start, end});
  }
  REQUIRE(seen.size() == 4);
  CHECK(pids.size() == 2);
  for (std::size_t i = 1; i < seen.size(); ++i) {
    CHECK(seen[i][0] > seen[i - 1][0]);
    CHECK(seen[i][1] >= seen[i - 1][2]);
  }
  CHECK(rounds->token == static_cast<std::uint64_t>(seen.back()[0]));
  workers.stop_all();
}
