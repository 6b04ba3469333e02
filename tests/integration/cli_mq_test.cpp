// `fourinone ctl mq ...` as a shell user meets it: the real binary against a real park server.
#include <doctest/doctest.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "fourinone/mq.hpp"
#include "tests/support/park_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using fourinone::test::RunningPark;
using Clock = std::chrono::steady_clock;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The value of the "NAME: value" line of ctl's key-value output ("" when absent).
std::string field(const std::string& out, const std::string& name) {
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + ": ", 0) == 0) return line.substr(name.size() + 2);
  }
  return "";
}

std::unique_ptr<fourinone::Mq> connect_mq(const RunningPark& park) {
  fourinone::MqOptions o;
  o.park = park.options();
  auto mq = fourinone::Mq::connect(o);
  REQUIRE_MESSAGE(mq.ok(), mq.status().to_string());
  return std::move(mq).value();
}

}  // namespace

TEST_SUITE("mq") {

TEST_CASE("ctl mq: send, receive and ack round trip; stdin lines are one batch") {
  RunningPark park;
  auto one = park.ctl({"mq", "send", "jobs", "hello world"});
  CHECK(one.code == 0);
  CHECK(one.out == "1\n");
  auto batch = park.ctl({"mq", "send", "jobs"}, "a\nb\nc\n");
  INFO(batch.err);
  CHECK(batch.code == 0);
  CHECK(batch.out == "2\n3\n4\n");

  auto got = park.ctl({"mq", "receive", "jobs", "--max", "10"});
  CHECK(got.code == 0);
  CHECK(got.out == "1 1 hello world\n2 1 a\n3 1 b\n4 1 c\n");
  auto stat = park.ctl({"mq", "stat", "jobs"});
  CHECK(field(stat.out, "depth") == "0");  // acked by the receive
  CHECK(field(stat.out, "sent") == "4");
  CHECK(field(stat.out, "acked") == "4");

  // Nothing left: receive waits out --wait, prints nothing and succeeds.
  auto start = Clock::now();
  auto none = park.ctl({"mq", "receive", "jobs", "--wait", "300"});
  CHECK(none.code == 0);
  CHECK(none.out.empty());
  CHECK(Clock::now() - start >= 290ms);
}

TEST_CASE("ctl mq: receive --no-ack prints the lease, which ends with the process; ack and nack work on held leases") {
  RunningPark park;
  REQUIRE(park.ctl({"mq", "send", "jobs", "x"}).code == 0);
  auto peek = park.ctl({"mq", "receive", "jobs", "--no-ack"});
  REQUIRE(peek.code == 0);
  CHECK(has(peek.err, "not acked"));
  std::istringstream line(peek.out);
  std::uint64_t offset = 0, deliveries = 0, lease = 0;
  std::string body;
  line >> offset >> deliveries >> lease >> body;
  CHECK(offset == 1);
  CHECK(deliveries == 1);
  CHECK(lease != 0);
  CHECK(body == "x");

  // The receiving ctl's session closed when it exited, and gave the lease back: as the usage
  // says, a later ack of it is refused and the message is delivered again.
  auto late = park.ctl({"mq", "ack", "jobs", "1", std::to_string(lease)});
  CHECK(late.code == 1);
  CHECK(has(late.err, "not_found"));
  CHECK(park.ctl({"mq", "receive", "jobs"}).out == "1 2 x\n");

  // A lease a running consumer holds can be nacked and acked from the shell.
  REQUIRE(park.ctl({"mq", "send", "jobs", "y"}).out == "2\n");
  auto consumer = connect_mq(park);
  auto held = consumer->receive_one("jobs", 0ms);
  REQUIRE(held.ok());
  REQUIRE(held->has_value());
  CHECK(field(park.ctl({"mq", "stat", "jobs"}).out, "in_flight") == "1");
  auto nacked = park.ctl({"mq", "nack", "jobs", "2", std::to_string((*held)->lease)});
  INFO(nacked.err);
  CHECK(nacked.code == 0);
  CHECK(field(park.ctl({"mq", "stat", "jobs"}).out, "in_flight") == "0");
  auto again = consumer->receive_one("jobs", 0ms);
  REQUIRE(again->has_value());
  CHECK((*again)->deliveries == 2);
  CHECK(park.ctl({"mq", "ack", "jobs", "2", std::to_string((*again)->lease)}).code == 0);
  CHECK(field(park.ctl({"mq", "stat", "jobs"}).out, "depth") == "0");
  CHECK(consumer->ack(**again).code() == fourinone::Errc::not_found);  // acked already
}

TEST_CASE("ctl mq stat and ls show the figures of each channel") {
  RunningPark park;
  CHECK(park.ctl({"mq", "ls"}).out.empty());
  REQUIRE(park.ctl({"mq", "send", "work"}, "aa\nbbb\nc\n").code == 0);
  auto consumer = connect_mq(park);
  auto held = consumer->receive_one("work", 0ms);  // m1 in flight
  REQUIRE(held->has_value());
  std::this_thread::sleep_for(50ms);  // so the oldest message has an age to show

  auto stat = park.ctl({"mq", "stat", "work"});
  INFO(stat.out, stat.err);
  REQUIRE(stat.code == 0);
  CHECK(field(stat.out, "name") == "work");
  CHECK(field(stat.out, "kind") == "queue");
  CHECK(field(stat.out, "depth") == "3");
  CHECK(field(stat.out, "in_flight") == "1");
  CHECK(std::stoll(field(stat.out, "oldest_age_ms")) >= 50);
  CHECK(field(stat.out, "dead_letters") == "0");
  CHECK(field(stat.out, "sent") == "3");
  CHECK(field(stat.out, "acked") == "0");
  // What the park accounts for the held messages: their 6 body bytes plus its own overhead.
  CHECK(std::stoll(field(stat.out, "bytes")) >= 6);
  // The MQ row's defaults (mq.hpp): no bounds, 5 deliveries, 30 s leases.
  CHECK(field(stat.out, "max_count") == "0");
  CHECK(field(stat.out, "max_age_ms") == "0");
  CHECK(field(stat.out, "max_deliveries") == "5");
  CHECK(field(stat.out, "lease_ms") == "30000");
  CHECK_FALSE(has(stat.out, "subscriber:"));

  REQUIRE(park.ctl({"mq", "create", "news", "--topic"}).code == 0);
  auto ls = park.ctl({"mq", "ls"});
  CHECK(ls.code == 0);
  CHECK(ls.out == "news topic 0\nwork queue 3\n");
}

TEST_CASE("ctl mq: publish to a topic and receive as a durable subscriber") {
  RunningPark park;
  REQUIRE(park.ctl({"mq", "subscribe", "news", "mail"}).code == 0);
  REQUIRE(park.ctl({"mq", "subscribe", "news", "audit"}).code == 0);
  auto one = park.ctl({"mq", "send", "news", "n1", "--topic"});
  CHECK(one.code == 0);
  CHECK(one.out == "1\n");
  auto batch = park.ctl({"mq", "send", "news", "--topic"}, "n2\nn3\n");
  INFO(batch.err);
  CHECK(batch.code == 0);
  CHECK(batch.out == "2\n3\n");

  CHECK(park.ctl({"mq", "receive", "news", "--subscriber", "mail", "--max", "2"}).out == "1 1 n1\n2 1 n2\n");
  CHECK(park.ctl({"mq", "receive", "news", "--subscriber", "mail", "--max", "5"}).out == "3 1 n3\n");
  // Each subscription has its own cursor: audit still has all three.
  CHECK(park.ctl({"mq", "receive", "news", "--subscriber", "audit"}).out == "1 1 n1\n");

  auto stat = park.ctl({"mq", "stat", "news"});
  INFO(stat.out);
  CHECK(field(stat.out, "kind") == "topic");
  CHECK(field(stat.out, "sent") == "3");
  CHECK(has(stat.out, "subscriber: audit lag 2 in_flight 0 acked 1 dead_letters 0 skipped 0\n"));
  CHECK(has(stat.out, "subscriber: mail lag 0 in_flight 0 acked 3 dead_letters 0 skipped 0\n"));

  auto nobody = park.ctl({"mq", "receive", "news", "--subscriber", "nobody"});
  CHECK(nobody.code == 1);
  CHECK(has(nobody.err, "not_found"));
  CHECK(park.ctl({"mq", "unsubscribe", "news", "mail"}).code == 0);
  auto gone = park.ctl({"mq", "unsubscribe", "news", "mail"});
  CHECK(gone.code == 1);
  CHECK(has(gone.err, "not_found"));
}

TEST_CASE("ctl mq create takes rules, stat shows them, and an existing channel keeps its own") {
  RunningPark park;
  auto made = park.ctl({"mq", "create", "orders", "--max-count", "100", "--max-age", "60000", "--max-deliveries", "3",
                        "--lease", "5000"});
  INFO(made.err);
  REQUIRE(made.code == 0);
  auto stat = park.ctl({"mq", "stat", "orders"});
  CHECK(field(stat.out, "kind") == "queue");
  CHECK(field(stat.out, "max_count") == "100");
  CHECK(field(stat.out, "max_age_ms") == "60000");
  CHECK(field(stat.out, "max_deliveries") == "3");
  CHECK(field(stat.out, "lease_ms") == "5000");

  auto again = park.ctl({"mq", "create", "orders", "--lease", "7000"});
  CHECK(again.code == 0);
  CHECK(has(again.err, "keeps its rules"));
  CHECK(field(park.ctl({"mq", "stat", "orders"}).out, "lease_ms") == "5000");
  auto other_kind = park.ctl({"mq", "create", "orders", "--topic"});
  CHECK(other_kind.code == 1);
  CHECK(has(other_kind.err, "bad_request"));

  CHECK(park.ctl({"mq", "rm", "orders"}).code == 0);
  CHECK(park.ctl({"mq", "stat", "orders"}).code == 1);
  auto twice = park.ctl({"mq", "rm", "orders"});
  CHECK(twice.code == 1);
  CHECK(has(twice.err, "not_found"));
}

TEST_CASE("ctl mq: bad input gets a clear error and a non-zero exit") {
  RunningPark park(RunningPark::Settings{{"MQ/MAXMESSAGE", "1K"}});
  auto unknown = park.ctl({"mq", "stat", "nothing"});
  CHECK(unknown.code == 1);
  CHECK(unknown.out.empty());
  CHECK(has(unknown.err, "not_found"));

  auto bad_name = park.ctl({"mq", "send", "a/b", "x"});
  CHECK(bad_name.code == 1);
  CHECK(has(bad_name.err, "bad_request"));

  auto big = park.ctl({"mq", "send", "q", std::string(1025, 'x')});
  CHECK(big.code == 1);
  CHECK(has(big.err, "too_large"));
  // One line too long in a stdin batch: nothing of the batch is sent.
  auto big_batch = park.ctl({"mq", "send", "q"}, "fine\n" + std::string(1025, 'x') + "\n");
  CHECK(big_batch.code == 1);
  CHECK(has(big_batch.err, "too_large"));
  CHECK(park.ctl({"mq", "stat", "q"}).code == 1);  // never made
  auto big_publish = park.ctl({"mq", "send", "t", std::string(1025, 'x'), "--topic"});
  CHECK(big_publish.code == 1);
  CHECK(has(big_publish.err, "too_large"));
  auto empty = park.ctl({"mq", "send", "q"}, "");
  CHECK(empty.code == 1);
  CHECK(has(empty.err, "nothing to send"));

  // Usage mistakes are caught before anything is sent: exit code 2.
  CHECK(park.ctl({"mq"}).code == 2);
  CHECK(park.ctl({"mq", "frob"}).code == 2);
  CHECK(park.ctl({"mq", "stat"}).code == 2);
  auto zero = park.ctl({"mq", "receive", "q", "--max", "0"});
  CHECK(zero.code == 2);
  CHECK(has(zero.err, "bad_request"));
  CHECK(park.ctl({"mq", "receive", "q", "--wait", "soon"}).code == 2);
  auto stray = park.ctl({"mq", "stat", "q", "--max", "3"});
  CHECK(stray.code == 2);
  CHECK(has(stray.err, "does not apply"));
  CHECK(park.ctl({"mq", "ack", "q", "1", "token"}).code == 2);
  CHECK(park.ctl({"get", "d", "n", "--subscriber", "s"}).code == 2);  // an mq option elsewhere
  auto help = park.ctl({"mq", "--help"});
  CHECK(help.code == 0);
  CHECK(has(help.out, "mq receive QUEUE"));
}

}  // TEST_SUITE
