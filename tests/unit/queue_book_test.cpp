// QueueBook: leases, redelivery, dead-lettering, cursors, retention and snapshots (pure).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/wire_archive.hpp"
#include "park/queue/queue_book.hpp"
#include "park/store/serialize.hpp"
#include "park/store/store.hpp"

namespace {

using fourinone::Errc;
using fourinone::Status;
using namespace fourinone::park;

constexpr std::int64_t kT0 = 1'000'000;

MqRules rules(std::uint32_t max_deliveries = 3, std::int64_t lease_ms = 1000, std::uint64_t max_count = 0,
              std::int64_t max_age_ms = 0) {
  MqRules r;
  r.max_deliveries = max_deliveries;
  r.lease_ms = lease_ms;
  r.max_count = max_count;
  r.max_age_ms = max_age_ms;
  return r;
}

// A test driver around one book: every helper applies one command.
struct Book {
  QueueBook book;
  std::set<std::uint64_t> live_sessions{7, 8};
  MqRules channel_rules = rules();

  MqResult run(MqCommand c, std::int64_t now = kT0, Status* status = nullptr) {
    MqResult out;
    Status s = book.apply(c, now, [this](std::uint64_t id) { return live_sessions.count(id) == 1; }, out);
    if (status) {
      *status = s;
    } else {
      REQUIRE_MESSAGE(s.ok(), s.to_string());
    }
    return out;
  }
  MqCommand cmd(MqKind kind, std::string channel, bool topic = false, std::string subscriber = "") {
    MqCommand c;
    c.kind = kind;
    c.channel = std::move(channel);
    c.topic = topic;
    c.subscriber = std::move(subscriber);
    c.rules = channel_rules;
    return c;
  }
  std::vector<std::uint64_t> send(const std::string& ch, std::vector<std::string> bodies, bool topic = false,
                                  std::int64_t now = kT0) {
    MqCommand c = cmd(MqKind::send, ch, topic);
    c.bodies = std::move(bodies);
    return run(c, now).offsets;
  }
  std::vector<MqDelivery> receive(const std::string& ch, std::uint32_t max, std::uint64_t session = 7,
                                  std::int64_t now = kT0, std::string sub = "") {
    MqCommand c = cmd(MqKind::receive, ch, !sub.empty(), sub);
    c.max = max;
    c.session = session;
    return run(c, now).delivered;
  }
  Status settle(MqKind kind, const std::vector<MqDelivery>& ds, std::int64_t now = kT0, std::uint64_t* applied = nullptr) {
    MqCommand c = cmd(kind, "");
    for (const auto& d : ds) c.refs.push_back(MqLeaseRef{d.channel, d.subscriber, d.offset, d.token});
    Status s;
    MqResult r = run(c, now, &s);
    if (applied) *applied = r.applied;
    return s;
  }
  void subscribe(const std::string& topic, const std::string& sub, bool from_oldest = false) {
    MqCommand c = cmd(MqKind::subscribe, topic, true, sub);
    c.from_oldest = from_oldest;
    run(c);
  }
  // Expires every lease due at `now`, as the leader's tick would.
  MqResult expire(std::int64_t now) {
    MqCommand c = cmd(MqKind::expire_leases, "");
    c.refs = book.expired_leases(now, 1000);
    return run(c, now);
  }
};

std::vector<std::string> bodies_of(const std::vector<MqDelivery>& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds) out.push_back(d.body);
  return out;
}

}  // namespace

TEST_CASE("queue: messages come out in send order, each to one consumer, and go when acked") {
  Book b;
  CHECK(b.send("q", {"a", "b", "c"}) == std::vector<std::uint64_t>{1, 2, 3});
  auto first = b.receive("q", 2);
  REQUIRE(first.size() == 2);
  CHECK(bodies_of(first) == std::vector<std::string>{"a", "b"});
  CHECK(first[0].deliveries == 1);
  CHECK(first[0].deadline_ms == kT0 + 1000);
  auto second = b.receive("q", 5, 8);
  CHECK(bodies_of(second) == std::vector<std::string>{"c"});
  CHECK(b.receive("q", 5).empty());  // all leased
  CHECK(b.book.available("q", "", 10) == 0);

  CHECK(b.settle(MqKind::ack, first).ok());
  auto s = b.book.stats("q", kT0);
  REQUIRE(s);
  CHECK(s->depth == 1);
  CHECK(s->in_flight == 1);
  CHECK(s->acked == 2);
  CHECK(s->sent == 3);
  // A second ack of the same lease is refused and changes nothing.
  Status again = b.settle(MqKind::ack, first);
  CHECK(again.code() == Errc::not_found);
  CHECK(b.book.stats("q", kT0)->acked == 2);
}

TEST_CASE("queue: a lease that runs out brings the message back first, with its delivery count, and the old lease is dead") {
  Book b;
  b.send("q", {"a", "b"});
  auto first = b.receive("q", 1);
  REQUIRE(first.size() == 1);
  CHECK(b.book.expired_leases(kT0 + 999, 10).empty());
  auto woken = b.expire(kT0 + 1000).woken;
  CHECK(woken.size() == 1);
  auto again = b.receive("q", 2, 8, kT0 + 1001);
  REQUIRE(again.size() == 2);
  CHECK(again[0].body == "a");  // the returned message goes out before newer ones
  CHECK(again[0].deliveries == 2);
  CHECK(again[0].token != first[0].token);
  CHECK(again[1].body == "b");
  CHECK(again[1].deliveries == 1);
  CHECK(b.settle(MqKind::ack, first, kT0 + 1001).code() == Errc::not_found);  // the first consumer was too late
  CHECK(b.settle(MqKind::ack, again, kT0 + 1001).ok());
  CHECK(b.book.stats("q", kT0)->depth == 0);
}

TEST_CASE("queue: an extended lease survives an expiry decided before the extension") {
  Book b;
  b.send("q", {"a"});
  auto d = b.receive("q", 1);
  MqCommand expire = b.cmd(MqKind::expire_leases, "");
  expire.refs = b.book.expired_leases(kT0 + 1000, 10);  // the leader decides...
  REQUIRE(expire.refs.size() == 1);
  CHECK(b.settle(MqKind::extend, d, kT0 + 900).ok());  // ...the consumer extends first...
  MqResult r = b.run(expire, kT0 + 1000);               // ...so the expiry does nothing
  CHECK(r.applied == 0);
  CHECK(b.book.stats("q", kT0)->in_flight == 1);
  CHECK(b.book.expired_leases(kT0 + 1899, 10).empty());
  CHECK(b.book.expired_leases(kT0 + 1900, 10).size() == 1);
}

TEST_CASE("queue: nack gives back at once; after max_deliveries the message moves to the dead-letter queue") {
  Book b;  // max_deliveries 3
  b.send("q", {"poison", "fine"});
  for (std::uint32_t round = 1; round <= 3; ++round) {
    auto d = b.receive("q", 1);
    REQUIRE(d.size() == 1);
    CHECK(d[0].body == "poison");
    CHECK(d[0].deliveries == round);
    CHECK(b.settle(MqKind::nack, d).ok());
  }
  auto next = b.receive("q", 5);
  CHECK(bodies_of(next) == std::vector<std::string>{"fine"});
  auto s = b.book.stats("q", kT0);
  CHECK(s->dead_letters == 1);
  CHECK(s->depth == 1);
  auto dead = b.receive("q.dlq", 5);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].body == "poison");
  CHECK(dead[0].sent_ms == kT0);
  CHECK(b.book.find("q.dlq")->rules.max_deliveries == 0);  // a dead-letter queue never dead-letters
}

TEST_CASE("queue: a consumer's session that ends gives its leases back; a receive on an ended session is refused") {
  Book b;
  b.send("q", {"a", "b", "c"});
  auto held = b.receive("q", 2, 7);
  b.receive("q", 1, 8);
  b.live_sessions.erase(7);
  MqResult r;
  b.book.release_session(7, r);
  CHECK(r.woken.size() == 2);
  auto again = b.receive("q", 5, 8);
  CHECK(bodies_of(again) == std::vector<std::string>{"a", "b"});
  CHECK(again[0].deliveries == 2);
  Status s;
  MqCommand c = b.cmd(MqKind::receive, "q");
  c.session = 7;
  b.run(c, kT0, &s);
  CHECK(s.code() == Errc::session_expired);
}

TEST_CASE("queue: max_count refuses a send that does not fit and keeps everything") {
  Book b;
  b.channel_rules = rules(3, 1000, 2);
  b.send("q", {"a"});
  Status s;
  MqCommand c = b.cmd(MqKind::send, "q");
  c.bodies = {"b", "c"};
  b.run(c, kT0, &s);
  CHECK(s.code() == Errc::park_full);
  CHECK(b.book.stats("q", kT0)->depth == 1);
  CHECK(b.send("q", {"b"}) == std::vector<std::uint64_t>{2});
}

TEST_CASE("queue: messages older than max_age move to the dead-letter queue unless leased") {
  Book b;
  b.channel_rules = rules(3, 60'000, 0, 500);
  b.send("q", {"old1", "old2"}, false, kT0);
  b.send("q", {"young"}, false, kT0 + 400);
  auto leased = b.receive("q", 1);  // old1 is leased
  CHECK(b.book.aged_messages(kT0 + 499, 10).empty());
  auto aged = b.book.aged_messages(kT0 + 500, 10);
  REQUIRE(aged.size() == 1);
  CHECK(aged[0].offset == 2);
  MqCommand c = b.cmd(MqKind::age_out, "");
  c.refs = aged;
  CHECK(b.run(c, kT0 + 500).applied == 1);
  CHECK(bodies_of(b.receive("q.dlq", 5)) == std::vector<std::string>{"old2"});
  CHECK(bodies_of(b.receive("q", 5)) == std::vector<std::string>{"young"});
}

TEST_CASE("topic: each subscription sees every message once, members of one subscription share the work") {
  Book b;
  b.send("t", {"before"}, true);  // no subscriptions, no retention: nobody keeps it
  CHECK(b.book.stats("t", kT0)->depth == 0);
  b.subscribe("t", "billing");
  b.subscribe("t", "audit");
  b.subscribe("t", "audit");  // nothing happens the second time
  CHECK(b.send("t", {"m1", "m2", "m3"}, true) == std::vector<std::uint64_t>{2, 3, 4});

  auto billing = b.receive("t", 10, 7, kT0, "billing");
  CHECK(bodies_of(billing) == std::vector<std::string>{"m1", "m2", "m3"});
  auto audit_a = b.receive("t", 2, 7, kT0, "audit");
  auto audit_b = b.receive("t", 2, 8, kT0, "audit");
  CHECK(bodies_of(audit_a) == std::vector<std::string>{"m1", "m2"});
  CHECK(bodies_of(audit_b) == std::vector<std::string>{"m3"});

  CHECK(b.settle(MqKind::ack, billing).ok());
  CHECK(b.book.stats("t", kT0)->depth == 3);  // audit still owes its acks
  CHECK(b.settle(MqKind::ack, audit_b).ok());  // out of order: m3 before m1, m2
  auto s = b.book.stats("t", kT0);
  REQUIRE(s->subscribers.size() == 2);
  CHECK(s->subscribers[0].name == "audit");
  CHECK(s->subscribers[0].lag == 2);
  CHECK(s->subscribers[0].in_flight == 2);
  CHECK(s->subscribers[1].lag == 0);
  CHECK(b.settle(MqKind::ack, audit_a).ok());
  CHECK(b.book.stats("t", kT0)->depth == 0);  // every subscription acked: gone

  Status status;
  MqCommand unknown = b.cmd(MqKind::receive, "t", true, "nobody");
  unknown.session = 7;
  b.run(unknown, kT0, &status);
  CHECK(status.code() == Errc::not_found);
}

TEST_CASE("topic: a subscriber that restarts resumes at its first unacked message (cursor kept across a snapshot)") {
  Book b;
  b.subscribe("t", "s");
  b.send("t", {"m1", "m2", "m3", "m4"}, true);
  auto got = b.receive("t", 2, 7, kT0, "s");
  CHECK(b.settle(MqKind::ack, got).ok());
  auto unacked = b.receive("t", 1, 7, kT0, "s");  // m3, then the subscriber dies
  REQUIRE(unacked.size() == 1);

  auto loaded = QueueBook::load(b.book.save(), 255);
  REQUIRE(loaded.ok());
  CHECK(loaded->save() == b.book.save());
  Book restarted;
  restarted.book = std::move(loaded).value();
  MqResult released;
  restarted.book.release_session(7, released);  // its session ends
  auto resumed = restarted.receive("t", 10, 8, kT0, "s");
  CHECK(bodies_of(resumed) == std::vector<std::string>{"m3", "m4"});
  CHECK(resumed[0].deliveries == 2);
}

TEST_CASE("topic: retention drops the oldest, read or not, and counts what a subscriber skipped") {
  Book b;
  b.channel_rules = rules(3, 1000, 2);
  b.subscribe("t", "slow");
  b.send("t", {"m1", "m2", "m3"}, true);
  auto s = b.book.stats("t", kT0);
  CHECK(s->depth == 2);
  CHECK(s->subscribers[0].skipped == 1);
  CHECK(bodies_of(b.receive("t", 10, 7, kT0, "slow")) == std::vector<std::string>{"m2", "m3"});
  // With retention, a new subscription may start from the oldest message held.
  b.subscribe("t", "late", true);
  CHECK(bodies_of(b.receive("t", 10, 7, kT0, "late")) == std::vector<std::string>{"m2", "m3"});
}

TEST_CASE("channels: kinds do not mix, names are checked, remove takes everything") {
  Book b;
  b.send("q", {"a"});
  Status s;
  b.run(b.cmd(MqKind::subscribe, "q", true, "x"), kT0, &s);
  CHECK(s.code() == Errc::bad_request);
  MqCommand publish = b.cmd(MqKind::send, "q", true);
  publish.bodies = {"x"};
  b.run(publish, kT0, &s);
  CHECK(s.code() == Errc::bad_request);
  b.run(b.cmd(MqKind::create, "x.dlq", true), kT0, &s);
  CHECK(s.code() == Errc::bad_request);
  b.run(b.cmd(MqKind::create, "a/b"), kT0, &s);
  CHECK(s.code() == Errc::bad_request);
  b.run(b.cmd(MqKind::create, std::string(252, 'n')), kT0, &s);  // no room for ".dlq"
  CHECK(s.code() == Errc::bad_request);
  CHECK(b.book.names() == std::vector<std::string>{"q"});

  b.receive("q", 1);
  b.run(b.cmd(MqKind::remove, "q"));
  CHECK(b.book.names().empty());
  CHECK(b.book.expired_leases(kT0 + 10'000, 10).empty());
  CHECK(b.book.bytes() == 0);
  b.run(b.cmd(MqKind::remove, "q"), kT0, &s);
  CHECK(s.code() == Errc::not_found);
}

TEST_CASE("snapshot: corrupt bytes are refused, never half-loaded") {
  Book b;
  b.subscribe("t", "s");
  b.send("t", {"m1", "m2"}, true);
  b.send("q", {"a"});
  b.receive("q", 1);
  std::string bytes = b.book.save();
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    CHECK_FALSE(QueueBook::load(bytes.substr(0, cut), 255).ok());
  }
  // A lease on an offset that was never sent breaks an invariant.
  auto loaded = QueueBook::load(bytes, 255);
  REQUIRE(loaded.ok());
  CHECK(loaded->bytes() == b.book.bytes());
}

TEST_CASE("store: a receive is applied once per (client, seq); one that leased nothing is not remembered") {
  Store store;
  auto command = [](MqKind kind, std::uint64_t seq) {
    Command c;
    c.kind = CommandKind::mq;
    c.client_id = 42;
    c.seq = seq;
    c.now_ms = kT0;
    c.mq.emplace();
    c.mq->kind = kind;
    c.mq->channel = "q";
    c.mq->max = 1;
    return c;
  };
  CHECK(store.apply(command(MqKind::receive, 1)).mq.delivered.empty());
  Command send = command(MqKind::send, 2);
  send.mq->bodies = {"a"};
  CHECK(store.apply(send).status.ok());
  auto first = store.apply(command(MqKind::receive, 1));  // the same seq, proposed again
  REQUIRE(first.mq.delivered.size() == 1);
  auto retry = store.apply(command(MqKind::receive, 1));  // a resend after a lost answer
  REQUIRE(retry.mq.delivered.size() == 1);
  CHECK(retry.mq.delivered[0].token == first.mq.delivered[0].token);
  CHECK(store.queues().stats("q", kT0)->in_flight == 1);

  // The remembered answer and the queues survive a snapshot.
  auto loaded = Store::load(store.save());
  REQUIRE(loaded.ok());
  CHECK(loaded->save() == store.save());
  auto after = loaded->apply(command(MqKind::receive, 1));
  REQUIRE(after.mq.delivered.size() == 1);
  CHECK(after.mq.delivered[0].token == first.mq.delivered[0].token);
}

TEST_CASE("log entries: commands other than queue commands keep the bytes they had before the queue existed") {
  Command c;
  c.kind = CommandKind::txn;
  c.caller = "alice";
  c.client_id = 9;
  c.seq = 3;
  c.now_ms = kT0;
  fourinone::park::Op op;
  op.kind = fourinone::park::OpKind::create;
  op.domain = "d";
  op.node = "n";
  op.value = "v";
  c.ops.push_back(op);
  std::string before_the_queue;  // the field list of a Command before CommandKind::mq
  {
    fourinone::core::WireOutputArchive ar(before_the_queue);
    ar(c.kind, c.caller, c.host, c.client_id, c.seq, c.acked_below, c.now_ms, c.ops, c.session, c.session_timeout_ms,
       c.targets);
  }
  CHECK(fourinone::core::encode(c) == before_the_queue);
  Command decoded;
  REQUIRE(fourinone::core::decode(before_the_queue, decoded, "old log entry").ok());
  CHECK(decoded.caller == "alice");
  CHECK_FALSE(decoded.mq.has_value());

  Command queue_command;
  queue_command.kind = CommandKind::mq;
  queue_command.mq.emplace();
  queue_command.mq->channel = "q";
  queue_command.mq->bodies = {"x"};
  Command back;
  REQUIRE(fourinone::core::decode(fourinone::core::encode(queue_command), back, "entry").ok());
  REQUIRE(back.mq.has_value());
  CHECK(back.mq->bodies == std::vector<std::string>{"x"});
}

TEST_CASE("store: receivers riding along with a send get its messages in the same entry, exactly once") {
  Store store;
  auto mq_command = [](std::uint64_t client, std::uint64_t seq) {
    Command c;
    c.kind = CommandKind::mq;
    c.client_id = client;
    c.seq = seq;
    c.now_ms = kT0;
    c.mq.emplace();
    c.mq->channel = "q";
    return c;
  };
  Command open = mq_command(0, 0);
  open.kind = CommandKind::open_session;
  open.mq.reset();
  open.session_timeout_ms = 5000;
  std::uint64_t session = store.apply(open).session;
  REQUIRE(session != 0);

  Command send = mq_command(1, 1);
  send.mq->kind = MqKind::send;
  send.mq->bodies = {"a", "b", "c"};
  send.mq->handoffs = {MqHandoff{2, 7, 1, "", 2, session}, MqHandoff{3, 4, 1, "", 5, 999}};
  ApplyResult r = store.apply(send);
  REQUIRE(r.status.ok());
  REQUIRE(r.mq.handoffs.size() == 2);
  CHECK(r.mq.handoffs[0].client_id == 2);
  CHECK(bodies_of(r.mq.handoffs[0].delivered) == std::vector<std::string>{"a", "b"});
  CHECK(r.mq.handoffs[1].code == static_cast<std::uint8_t>(Errc::session_expired));  // no session 999
  CHECK(r.mq.handoffs[1].delivered.empty());
  CHECK(store.queues().stats("q", kT0)->in_flight == 2);

  // The receiver resends its receive (its answer was lost): the same leases come back.
  Command resend = mq_command(2, 7);
  resend.mq->kind = MqKind::receive;
  resend.mq->max = 2;
  resend.mq->session = session;
  auto again = store.apply(resend);
  REQUIRE(again.mq.delivered.size() == 2);
  CHECK(again.mq.delivered[0].token == r.mq.handoffs[0].delivered[0].token);
  CHECK(store.queues().stats("q", kT0)->in_flight == 2);
  // The sender's resend gets its offsets back, and nobody else's messages.
  auto sender_again = store.apply(send);
  CHECK(sender_again.mq.offsets == std::vector<std::uint64_t>{1, 2, 3});
  CHECK(sender_again.mq.handoffs.empty());
  CHECK(store.queues().stats("q", kT0)->in_flight == 2);
}
