// The mq_demo sample as users run it (samples/mq_demo/README.md): its sender, receiver,
// publisher and subscriber processes against a real park server.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/park_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using fourinone::test::Process;
using fourinone::test::run_program;
using fourinone::test::RunningPark;
using fourinone::test::wait_until;

const std::string kDemo = std::string(FOURINONE_BINARY_DIR) + "/samples/mq_demo";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A subscriber process, returned once it has made (or found) its subscription, so that what
// is published from then on is meant for it.
std::unique_ptr<Process> start_subscriber(const RunningPark& park, const std::string& name, const std::string& log) {
  auto sub = std::make_unique<Process>(std::vector<std::string>{kDemo, "subscriber", "--config", park.config.path,
                                                                "--name", name},
                                       park.dir.file(log));
  REQUIRE_MESSAGE(wait_until([&] { return has(sub->out(), name + " subscribed to topic1"); }, 10s),
                  "subscriber log: " << sub->err());
  return sub;
}

}  // namespace

TEST_SUITE("mq") {

TEST_CASE("mq_demo: the receiver takes the sender's hello, world, mq in order") {
  RunningPark park;
  auto sent = run_program({kDemo, "sender", "--config", park.config.path});
  INFO(sent.err);
  REQUIRE(sent.code == 0);
  CHECK(sent.out == "sent hello (offset 1)\nsent world (offset 2)\nsent mq (offset 3)\n");
  auto got = run_program({kDemo, "receiver", "--config", park.config.path, "--wait-ms", "5000"});
  INFO(got.err);
  CHECK(got.code == 0);
  CHECK(got.out ==
        "received hello (offset 1, delivery 1)\nreceived world (offset 2, delivery 1)\nreceived mq (offset 3, delivery 1)\n");

  // Each was acked: the queue is empty, and a receiver waiting on it gives up with an error.
  auto nothing = run_program({kDemo, "receiver", "--config", park.config.path, "--count", "1", "--wait-ms", "200"});
  CHECK(nothing.code == 1);
  CHECK(has(nothing.err, "no message in queue1"));

  // A receiver started first blocks on the server until the sender's messages arrive.
  Process receiver({kDemo, "receiver", "--config", park.config.path}, park.dir.file("receiver"));
  REQUIRE(run_program({kDemo, "sender", "--config", park.config.path}).code == 0);
  CHECK_MESSAGE(receiver.wait(10s) == 0, receiver.err());
  CHECK(receiver.out() ==
        "received hello (offset 4, delivery 1)\nreceived world (offset 5, delivery 1)\nreceived mq (offset 6, delivery 1)\n");
}

TEST_CASE("mq_demo: a waiting subscriber prints what the publisher publishes and exits") {
  RunningPark park;
  auto sub = start_subscriber(park, "s1", "sub");
  auto pub = run_program({kDemo, "publisher", "--config", park.config.path});
  INFO(pub.err);
  CHECK(pub.code == 0);
  CHECK(pub.out == "published helloworld (offset 1)\n");
  CHECK_MESSAGE(sub->wait(10s) == 0, sub->err());
  CHECK(sub->out() == "s1 subscribed to topic1\ns1 got helloworld (offset 1, delivery 1)\n");
}

TEST_CASE("mq_demo: a restarted subscriber resumes at its first unacked message") {
  RunningPark park;
  auto first = start_subscriber(park, "s1", "sub1");
  REQUIRE(run_program({kDemo, "publisher", "--config", park.config.path}).code == 0);
  REQUIRE(first->wait(10s) == 0);
  CHECK(has(first->out(), "s1 got helloworld (offset 1, delivery 1)"));

  // Published while no s1 process runs: the durable subscription holds them.
  auto pub = run_program({kDemo, "publisher", "--config", park.config.path, "--count", "2"});
  CHECK(pub.out == "published helloworld (offset 2)\npublished helloworld (offset 3)\n");
  auto second = run_program({kDemo, "subscriber", "--config", park.config.path, "--name", "s1"}, "", 20s);
  INFO(second.err);
  CHECK(second.code == 0);
  CHECK(second.out == "s1 subscribed to topic1\ns1 got helloworld (offset 2, delivery 1)\n");
  auto third = run_program({kDemo, "subscriber", "--config", park.config.path, "--name", "s1"}, "", 20s);
  CHECK(third.code == 0);
  CHECK(third.out == "s1 subscribed to topic1\ns1 got helloworld (offset 3, delivery 1)\n");
}

TEST_CASE("mq_demo: usage mistakes exit 2") {
  CHECK(run_program({kDemo}).code == 2);
  CHECK(run_program({kDemo, "sender", "--count", "3"}).code == 2);
  CHECK(run_program({kDemo, "subscriber", "--config", "x.xml"}).code == 2);  // no --name
  CHECK(run_program({kDemo, "receiver", "--count", "many"}).code == 2);
}

}  // TEST_SUITE
