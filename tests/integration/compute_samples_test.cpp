// The compute samples as users run them: real worker and contractor processes of
// samples/word_count and samples/mail_fetch against a real park server.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

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
