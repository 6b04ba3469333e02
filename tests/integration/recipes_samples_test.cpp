// The recipe samples as users run them, each from one command, against a real park server:
// samples/config_push (configuration center) and samples/scheduler (the JStorm pattern).
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "tests/support/park_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using fourinone::test::run_program;
using fourinone::test::RunningPark;

const std::string kSamples = std::string(FOURINONE_BINARY_DIR) + "/samples/";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE("recipes") {

TEST_CASE("config_push demo: every watcher sees the writer's changes, in order") {
  RunningPark park;
  auto r = run_program({kSamples + "config_push", "demo", "--config", park.config.path, "--watchers", "3",
                        "--changes", "6"},
                       "", 30s);
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  for (int i = 0; i < 3; ++i) {
    CHECK(has(r.out, "watcher " + std::to_string(i) + " saw 6 changes, all of them, in the writer's order"));
  }
}

TEST_CASE("scheduler demo: the standby nimbus takes over after kill -9 and supervisors follow the new term") {
  RunningPark park;
  auto r = run_program({kSamples + "scheduler_demo", "demo", "--config", park.config.path}, "", 60s);
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(has(r.out, "took over"));
  // After s2 is killed its tasks are dealt to s1 and s3, three each, under the new term.
  CHECK(has(r.out, "supervisor s1: running [t0,t2,t4]"));
  CHECK(has(r.out, "supervisor s3: running [t1,t3,t5]"));
  CHECK(has(r.out, "2 supervisors live; tasks assigned"));
}

}  // TEST_SUITE
