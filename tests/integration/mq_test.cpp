// The message queue through the public API (include/fourinone/mq.hpp), against real park
// servers on loopback: blocking receive, leases, redelivery, dead letters, topics with
// durable subscriptions, bad input, restarts and a consumer killed between receive and ack.
#include <doctest/doctest.h>

#include <csignal>
#include <future>
#include <thread>

#include "fourinone/mq.hpp"
#include "tests/support/park_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using fourinone::ChannelOptions;
using fourinone::Errc;
using fourinone::Message;
using fourinone::Mq;
using fourinone::MqOptions;
using fourinone::test::RunningPark;
using Clock = std::chrono::steady_clock;

std::unique_ptr<Mq> connect_mq(const fourinone::ParkOptions& park) {
  MqOptions o;
  o.park = park;
  auto mq = Mq::connect(o);
  REQUIRE_MESSAGE(mq.ok(), mq.status().to_string());
  return std::move(mq).value();
}

std::vector<std::string> bodies(const std::vector<Message>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) out.push_back(m.body);
  return out;
}

}  // namespace

TEST_SUITE("mq") {

TEST_CASE("queue: send, receive in order, ack; a receive blocks until a message arrives") {
  RunningPark park;
  auto mq = connect_mq(park.options());
  CHECK(*mq->send("jobs", "a") == 1);
  CHECK(*mq->send_batch("jobs", {"b", "c"}) == std::vector<std::uint64_t>{2, 3});
  auto got = mq->receive("jobs", 10, 0ms);
  REQUIRE(got.ok());
  CHECK(bodies(*got) == std::vector<std::string>{"a", "b", "c"});
  CHECK((*got)[0].deliveries == 1);
  CHECK(mq->ack(*got).ok());
  CHECK(mq->stats("jobs")->depth == 0);

  // An empty queue: the receive waits out its time and answers nothing.
  auto start = Clock::now();
  auto none = mq->receive_one("jobs", 300ms);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  CHECK(Clock::now() - start >= 290ms);

  // A waiting receiver gets a message sent while it waits, at once (no polling interval).
  auto sender = connect_mq(park.options());
  std::optional<Message> arrived;
  Clock::time_point received_at;
  std::thread consumer([&] {
    auto r = mq->receive_one("jobs", 10s);
    received_at = Clock::now();
    if (r.ok()) arrived = *r;
  });
  std::this_thread::sleep_for(200ms);
  auto sent_at = Clock::now();
  CHECK(sender->send("jobs", "late").ok());
  consumer.join();
  REQUIRE(arrived.has_value());
  CHECK(arrived->body == "late");
  CHECK(received_at - sent_at < 1s);
  CHECK(mq->ack(*arrived).ok());

  // async_ack: the answer arrives on the callback thread; an unknown lease is not_found.
  REQUIRE(sender->send_batch("jobs", {"x", "y"}).ok());
  auto two = mq->receive("jobs", 2, 0ms);
  REQUIRE(two->size() == 2);
  std::promise<fourinone::Status> acked, refused;
  mq->async_ack(*two, [&](fourinone::Status s) { acked.set_value(s); });
  CHECK(acked.get_future().get().ok());
  mq->async_ack(*two, [&](fourinone::Status s) { refused.set_value(s); });
  CHECK(refused.get_future().get().code() == Errc::not_found);
  CHECK(mq->stats("jobs")->depth == 0);
}

TEST_CASE("queue: each message goes to one consumer at a time; nack, lease expiry and dead letters") {
  RunningPark park(RunningPark::Settings{{"MQ/LEASE", "400"}});
  auto a = connect_mq(park.options());
  auto b = connect_mq(park.options());
  ChannelOptions rules;
  rules.max_deliveries = 2;
  REQUIRE(a->create_queue("work", rules).ok());
  REQUIRE(a->send_batch("work", {"m1", "m2"}).ok());
  auto first = a->receive("work", 1, 0ms);
  auto second = b->receive("work", 5, 0ms);
  REQUIRE(first->size() == 1);
  REQUIRE(second->size() == 1);
  CHECK((*first)[0].body == "m1");
  CHECK((*second)[0].body == "m2");
  CHECK(b->receive("work", 5, 0ms)->empty());

  // nack: back at once, to whoever asks, with its count.
  CHECK(a->nack((*first)[0]).ok());
  auto again = b->receive_one("work", 0ms);
  REQUIRE(again->has_value());
  CHECK((*again)->body == "m1");
  CHECK((*again)->deliveries == 2);
  // The lease (400 ms from the MQ row) runs out: a third delivery would pass max_deliveries,
  // so it moves to work.dlq. Acking with the old lease is refused.
  auto dead = a->receive_one("work.dlq", 3s);
  REQUIRE(dead.ok());
  REQUIRE(dead->has_value());
  CHECK((*dead)->body == "m1");
  CHECK(b->ack(**again).code() == Errc::not_found);
  auto stats = a->stats("work");
  REQUIRE(stats.ok());
  CHECK(stats->dead_letters == 1);
  CHECK(stats->options.lease == 400ms);
  CHECK(stats->options.max_deliveries == 2);
  CHECK(a->ack(**dead).ok());

  // extend keeps a lease alive past its first deadline.
  CHECK(b->ack((*second)[0]).code() == Errc::not_found);  // it ran out meanwhile...
  auto m2 = b->receive_one("work", 0ms);                     // ...and came back
  REQUIRE(m2->has_value());
  CHECK((*m2)->deliveries == 2);
  std::this_thread::sleep_for(250ms);
  CHECK(b->extend(**m2).ok());
  std::this_thread::sleep_for(250ms);
  CHECK(b->ack(**m2).ok());
}

TEST_CASE("queue: bad input gets a clear error and loses nothing") {
  RunningPark park(RunningPark::Settings{{"MQ/MAXMESSAGE", "1K"}});
  auto options = fourinone::MqOptions::from_config(*fourinone::load_config(park.config.path));
  REQUIRE(options.ok());
  CHECK(options->max_message == 1024);
  auto mq = connect_mq(park.options());
  REQUIRE(mq->send("q", "kept").ok());

  // Over MAXMESSAGE: the server refuses it too (this client does not know the row's limit).
  auto big = mq->send("q", std::string(1025, 'x'));
  CHECK(big.status().code() == Errc::too_large);
  CHECK(mq->send("", "x").status().code() == Errc::bad_request);
  CHECK(mq->send("a/b", "x").status().code() == Errc::bad_request);
  CHECK(mq->send(std::string("bad\x01name"), "x").status().code() == Errc::bad_request);
  CHECK(mq->publish("q", "x").status().code() == Errc::bad_request);  // q is a queue
  CHECK(mq->subscribe("q", "s").code() == Errc::bad_request);
  CHECK(mq->receive("nosuchtopic", "s", 1, 0ms).status().code() == Errc::not_found);
  CHECK(mq->receive("q", 0, 0ms).status().code() == Errc::bad_request);
  Message forged;
  forged.channel = "q";
  forged.offset = 1;
  forged.lease = 12345;
  CHECK(mq->ack(forged).code() == Errc::not_found);
  CHECK(mq->stats("nothing").status().code() == Errc::not_found);
  CHECK(mq->remove_channel("nothing").code() == Errc::not_found);

  auto stats = mq->stats("q");
  REQUIRE(stats.ok());
  CHECK(stats->depth == 1);
  CHECK(stats->sent == 1);
  auto kept = mq->receive_one("q", 0ms);
  REQUIRE(kept->has_value());
  CHECK((*kept)->body == "kept");
  CHECK(*mq->list_channels() == std::vector<std::string>{"q"});
}

TEST_CASE("queue: max_count from the MQ row refuses sends that do not fit") {
  RunningPark park(RunningPark::Settings{{"MQ/CHANNELS", "small=maxcount:2"}});
  auto mq = connect_mq(park.options());
  CHECK(mq->send_batch("small", {"1", "2"}).ok());
  CHECK(mq->send("small", "3").status().code() == Errc::park_full);
  CHECK(mq->stats("small")->depth == 2);
  CHECK(mq->stats("small")->options.max_count == 2);
  CHECK(mq->send("other", "3").ok());  // other channels have no bound
}

TEST_CASE("queue: a full park (the memory guard) refuses sends but still lets consumers drain") {
  RunningPark park(RunningPark::Settings{{"MAXMEMORY", "64K"}, {"SAFEMEMORYPER", "1"}});
  auto mq = connect_mq(park.options());
  const std::string body(1000, 'm');
  std::uint64_t stored = 0;
  fourinone::Status refused;
  for (int i = 0; i < 200 && refused.ok(); ++i) {
    auto r = mq->send("big", body);
    if (r.ok()) {
      ++stored;
    } else {
      refused = r.status();
    }
  }
  CHECK(refused.code() == Errc::park_full);
  CHECK(refused.message().find("consume messages first") != std::string::npos);
  REQUIRE(stored > 10);
  CHECK(mq->stats("big")->depth == stored);  // the refused send left nothing behind
  auto some = mq->receive("big", 20, 0ms);   // receiving and acking go on...
  REQUIRE(some.ok());
  CHECK(mq->ack(*some).ok());
  CHECK(mq->send("big", body).ok());          // ...and make room again
}

TEST_CASE("topic: durable subscriptions fan out; a consumer group shares; a restarted subscriber resumes") {
  RunningPark park;
  auto pub = connect_mq(park.options());
  REQUIRE(pub->subscribe("news", "mail").ok());
  REQUIRE(pub->subscribe("news", "audit").ok());
  for (int i = 1; i <= 6; ++i) REQUIRE(pub->publish("news", "n" + std::to_string(i)).ok());

  {
    auto sub = connect_mq(park.options());
    auto got = sub->receive("news", "mail", 2, 0ms);
    REQUIRE(got.ok());
    CHECK(bodies(*got) == std::vector<std::string>{"n1", "n2"});
    CHECK(sub->ack(*got).ok());
    auto held = sub->receive("news", "mail", 2, 0ms);  // n3, n4: never acked
    REQUIRE(held->size() == 2);
  }  // the subscriber goes away (its session closes: its leases come back)

  auto restarted = connect_mq(park.options());
  REQUIRE(restarted->subscribe("news", "mail").ok());  // exists: keeps its cursor
  auto resumed = restarted->receive("news", "mail", 10, 2s);
  REQUIRE(resumed.ok());
  CHECK(bodies(*resumed) == std::vector<std::string>{"n3", "n4", "n5", "n6"});
  CHECK((*resumed)[0].deliveries == 2);
  CHECK(restarted->ack(*resumed).ok());

  // audit is a consumer group of two: together they see each message once.
  auto g1 = connect_mq(park.options());
  auto g2 = connect_mq(park.options());
  auto part1 = g1->receive("news", "audit", 3, 0ms);
  auto part2 = g2->receive("news", "audit", 10, 0ms);
  CHECK(bodies(*part1) == std::vector<std::string>{"n1", "n2", "n3"});
  CHECK(bodies(*part2) == std::vector<std::string>{"n4", "n5", "n6"});
  auto stats = pub->stats("news");
  REQUIRE(stats.ok());
  REQUIRE(stats->subscribers.size() == 2);
  CHECK(stats->subscribers[0].name == "audit");
  CHECK(stats->subscribers[0].lag == 6);
  CHECK(stats->subscribers[0].in_flight == 6);
  CHECK(stats->subscribers[1].lag == 0);
  CHECK(g1->ack(*part1).ok());
  CHECK(g2->ack(*part2).ok());
  CHECK(pub->stats("news")->depth == 0);

  // A subscriber waiting for the next publish gets it at once.
  std::optional<std::string> got;
  std::thread waiter([&] {
    auto r = g1->receive("news", "audit", 1, 10s);
    if (r.ok() && !r->empty()) got = r->front().body;
  });
  std::this_thread::sleep_for(100ms);
  REQUIRE(pub->publish("news", "fresh").ok());
  waiter.join();
  CHECK(got == std::optional<std::string>("fresh"));
  CHECK(pub->unsubscribe("news", "mail").ok());
  CHECK(pub->unsubscribe("news", "mail").code() == Errc::not_found);
}

TEST_CASE("queue: a consumer killed between receive and ack: its messages come back") {
  RunningPark park;
  auto mq = connect_mq(park.options());
  REQUIRE(mq->send_batch("mail", {"m1", "m2", "m3"}).ok());
  fourinone::test::Process consumer({FOURINONE_TEST_CONSUMER, park.config.path, "mail", "2"},
                                    park.dir.file("consumer"));
  REQUIRE(fourinone::test::wait_until([&] { return consumer.out().find("leased") != std::string::npos; }, 10s));
  CHECK(consumer.out() == "leased 1 2\n");
  CHECK(mq->stats("mail")->in_flight == 2);
  consumer.signal(SIGKILL);
  consumer.wait(5s);
  // Only m3 is free now; m1 and m2 come back when the dead consumer's session expires (2 s).
  auto start = Clock::now();
  auto got = mq->receive("mail", 10, 0ms);
  CHECK(bodies(*got) == std::vector<std::string>{"m3"});
  std::vector<Message> back;
  while (back.size() < 2 && Clock::now() - start < 10s) {
    auto r = mq->receive("mail", 10, 5s);
    REQUIRE(r.ok());
    back.insert(back.end(), r->begin(), r->end());
  }
  CHECK(bodies(back) == std::vector<std::string>{"m1", "m2"});
  CHECK(back[0].deliveries == 2);
  CHECK(Clock::now() - start < 6s);  // session timeout 2 s (+ the park's rescue margin)
}

TEST_CASE("queue: messages and cursors survive a kill -9 and restart of the server") {
  RunningPark park;
  {
    auto mq = connect_mq(park.options());
    REQUIRE(mq->send_batch("durable", {"a", "b", "c"}).ok());
    REQUIRE(mq->subscribe("t", "s").ok());
    REQUIRE(mq->publish("t", "p1").ok());
    auto got = mq->receive_one("durable", 0ms);
    REQUIRE(mq->ack(**got).ok());
  }
  park.server.kill();
  REQUIRE(park.server.start());
  auto mq = connect_mq(park.options());
  auto rest = mq->receive("durable", 10, 2s);
  REQUIRE(rest.ok());
  CHECK(bodies(*rest) == std::vector<std::string>{"b", "c"});
  auto pub = mq->receive("t", "s", 10, 2s);
  REQUIRE(pub.ok());
  CHECK(bodies(*pub) == std::vector<std::string>{"p1"});
}

}  // TEST_SUITE
