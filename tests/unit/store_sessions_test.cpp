// The Store (park/store): sessions and heartbeat nodes, TTLs and the clear task, and the
// exactly-once table.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "park/store/state.hpp"
#include "tests/unit/store_test_util.hpp"

using fourinone::errc_name;
using fourinone::Node;
using fourinone::WatchEvent;
using fourinone::park::ApplyResult;
using fourinone::park::NodeRef;
using fourinone::park::Store;
using namespace store_test;

namespace {

std::vector<std::string> names(const std::vector<Node>& nodes) {
  std::vector<std::string> out;
  for (const Node& n : nodes) out.push_back(n.domain + "/" + n.name);
  return out;
}

std::vector<std::string> names(const std::vector<NodeRef>& refs) {
  std::vector<std::string> out;
  for (const NodeRef& r : refs) out.push_back(r.domain + "/" + r.node);
  return out;
}

}  // namespace

TEST_SUITE("store") {

TEST_CASE("sessions open with fresh ids and are closed by their owner or expired by the leader") {
  Store s;
  ApplyResult r = ok(s, session_command(CommandKind::open_session, "alice", 0, 3000));
  CHECK(r.session == 1);
  CHECK(r.revision == 0);
  CHECK(r.events.empty());
  REQUIRE(s.sessions().count(1) == 1);
  const auto& rec = s.sessions().at(1);
  CHECK(rec.id == 1);
  CHECK(rec.owner == "alice");
  CHECK(rec.timeout_ms == 3000);
  CHECK(rec.opened_ms == 1000);
  CHECK(open(s, "bob") == 2);
  CHECK(code(refused(s, session_command(CommandKind::open_session, "bob", 0, 0))) == "bad_request");
  CHECK(code(refused(s, session_command(CommandKind::open_session, "bob", 0, -5))) == "bad_request");

  // Someone else's session may not be closed, only expired by the leader.
  r = refused(s, session_command(CommandKind::close_session, "bob", 1));
  CHECK(code(r) == "no_permission");
  CHECK(contains(r.status.message(), "belongs to 'alice'"));
  r = ok(s, session_command(CommandKind::close_session, "alice", 1));
  CHECK(r.revision == 0);
  CHECK(s.sessions().count(1) == 0);
  CHECK(code(refused(s, session_command(CommandKind::close_session, "alice", 1))) == "not_found");
  CHECK(code(refused(s, session_command(CommandKind::expire_session, "", 1))) == "not_found");
  CHECK(code(refused(s, session_command(CommandKind::close_session, "alice", 99))) == "not_found");

  ok(s, session_command(CommandKind::expire_session, "", 2));
  CHECK(s.sessions().empty());
  CHECK(open(s, "alice") == 3);  // ids are never reused
  CHECK(s.revision() == 0);
}

TEST_CASE("a heartbeat create needs a live session of the caller") {
  Store s;
  std::uint64_t a = open(s, "alice");
  ApplyResult r = refused(s, txn({heartbeat_op("d", "x")}, "alice", 1000, 0));
  CHECK(code(r) == "session_expired");
  CHECK(code(refused(s, txn({heartbeat_op("d", "x")}, "alice", 1000, 42))) == "session_expired");
  CHECK(code(refused(s, txn({heartbeat_op("d", "x")}, "bob", 1000, a))) == "no_permission");
  r = ok(s, txn({heartbeat_op("d", "x"), create_op("d", "plain", "p")}, "alice", 1000, a));
  CHECK(r.results[0].node.session == a);
  CHECK(r.results[0].node.heartbeat());
  CHECK(r.results[1].node.session == 0);  // only heartbeat ops belong to the session
  ok(s, session_command(CommandKind::close_session, "alice", a));
  CHECK(code(refused(s, txn({heartbeat_op("d", "y")}, "alice", 1000, a))) == "session_expired");
}

TEST_CASE("closing or expiring a session removes its heartbeat nodes, in creation order, at one revision") {
  Store s;
  std::uint64_t a = open(s, "alice");
  std::uint64_t b = open(s, "bob");
  ok(s, txn({heartbeat_op("d", "z"), create_op("d", "keep", "k")}, "alice", 1000, a));
  ok(s, txn({heartbeat_op("only-hb", "a"), heartbeat_op("d", "a")}, "alice", 1000, a));
  ok(s, txn({heartbeat_op("d", "bobs")}, "bob", 1000, b));
  ok(s, txn({update_op("d", "z", "changed by bob")}, "bob"));  // an update keeps the owner
  CHECK(s.revision() == 4);

  ApplyResult r = ok(s, session_command(CommandKind::close_session, "alice", a));
  CHECK(r.revision == 5);
  REQUIRE(r.results.size() == 1);
  CHECK(names(r.results[0].removed) == std::vector<std::string>{"d/z", "only-hb/a", "d/a"});
  REQUIRE(r.events.size() == 3);
  for (const WatchEvent& e : r.events) {
    CHECK(e.type == WatchEvent::Type::deleted);
    CHECK(e.revision == 5);
  }
  CHECK(s.find("d", "z") == nullptr);
  CHECK(s.find("d", "keep") != nullptr);
  CHECK(s.find("d", "bobs") != nullptr);
  CHECK_FALSE(s.has_domain("only-hb"));
  CHECK(s.domain_revision("d") == 5);

  r = ok(s, session_command(CommandKind::expire_session, "", b));
  CHECK(r.revision == 6);
  CHECK(names(r.results[0].removed) == std::vector<std::string>{"d/bobs"});
  CHECK(s.sessions().empty());
  CHECK(s.node_count() == 1);

  // A heartbeat node removed before its session ends is simply not there any more.
  std::uint64_t c = open(s, "carol");
  ok(s, txn({heartbeat_op("d", "c1"), heartbeat_op("d", "c2")}, "carol", 1000, c));
  ok(s, txn({remove_op("d", "c1")}, "carol"));
  r = ok(s, session_command(CommandKind::close_session, "carol", c));
  CHECK(names(r.results[0].removed) == std::vector<std::string>{"d/c2"});
}

TEST_CASE("ttl_expired lists TTL nodes by deadline, and expire_nodes removes only the nodes named") {
  Store s;
  std::uint64_t a = open(s, "alice");
  ok(s, txn({ttl_op("d", "late", 300), ttl_op("d", "early", 100)}, "alice", 1000));  // 1300, 1100
  ok(s, txn({ttl_op("d", "mid", 150), create_op("d", "forever", "f")}, "alice", 1050));  // 1200
  ok(s, txn({ttl_op("e", "same", 100)}, "alice", 1100));                               // 1200, later revision
  ApplyResult r = ok(s, txn({create_op("d", "hb", "h", Policy::all, true, 50)}, "alice", 1000, a));  // 1050
  CHECK(r.results[0].node.expires_ms == 1050);
  CHECK(s.find("d", "late")->expires_ms == 1300);
  CHECK(s.find("d", "forever")->expires_ms == 0);

  CHECK(s.ttl_expired(1049, 10).empty());
  CHECK(names(s.ttl_expired(1100, 10)) == std::vector<std::string>{"d/hb", "d/early"});
  CHECK(names(s.ttl_expired(1200, 10)) == std::vector<std::string>{"d/hb", "d/early", "d/mid", "e/same"});
  CHECK(names(s.ttl_expired(kNever, 10)) ==
        std::vector<std::string>{"d/hb", "d/early", "d/mid", "e/same", "d/late"});
  CHECK(names(s.ttl_expired(kNever, 2)) == std::vector<std::string>{"d/hb", "d/early"});
  CHECK(s.ttl_expired(kNever, 0).empty());
  std::vector<NodeRef> due = s.ttl_expired(1200, 10);
  CHECK(due[1].create_revision == s.find("d", "early")->create_revision);
  CHECK(s.node_count() == 6);  // a read removes nothing

  // A node removed and created again is not the target any more.
  ok(s, txn({remove_op("d", "early")}));
  ok(s, txn({ttl_op("d", "early", 100)}, "alice", 1000));
  const std::uint64_t rev = s.revision();
  r = ok(s, expire_nodes(due));
  CHECK(r.revision == rev + 1);
  CHECK(names(r.results.at(0).removed) == std::vector<std::string>{"d/hb", "d/mid", "e/same"});
  CHECK(r.events.size() == 3);
  CHECK(s.find("d", "early") != nullptr);
  CHECK_FALSE(s.has_domain("e"));
  r = ok(s, expire_nodes(due));  // nothing left to do: no change
  CHECK(r.revision == rev + 1);
  CHECK(r.events.empty());
  CHECK(names(s.ttl_expired(kNever, 10)) == std::vector<std::string>{"d/early", "d/late"});

  // Bad and extreme TTLs.
  CHECK(code(refused(s, txn({ttl_op("d", "neg", -1)}))) == "bad_request");
  r = ok(s, txn({ttl_op("d", "far", kNever)}, "alice", kNever - 10));
  CHECK(r.results[0].node.expires_ms == kNever);
}

TEST_CASE("created_before lists non-heartbeat nodes by creation time") {
  Store s;
  std::uint64_t a = open(s, "alice");
  ok(s, txn({create_op("d", "b", "1")}, "alice", 2000));
  ok(s, txn({create_op("d", "a", "1"), heartbeat_op("d", "hb")}, "alice", 1000, a));
  ok(s, txn({create_op("e", "c", "1")}, "alice", 1000));
  ok(s, txn({update_op("d", "a", "2")}, "alice", 9000));  // an update does not make it younger
  CHECK(s.created_before(1000, 10).empty());
  CHECK(names(s.created_before(1001, 10)) == std::vector<std::string>{"d/a", "e/c"});
  CHECK(names(s.created_before(kNever, 10)) == std::vector<std::string>{"d/a", "e/c", "d/b"});
  CHECK(names(s.created_before(kNever, 1)) == std::vector<std::string>{"d/a"});
  ApplyResult r = ok(s, expire_nodes(s.created_before(1001, 10)));
  CHECK(r.events.size() == 2);
  CHECK(names(s.list("d")) == std::vector<std::string>{"d/b", "d/hb"});
}

TEST_CASE("exactly once: a retry gets the first answer and applies nothing") {
  Store s;
  Command create = with_client(txn({create_op("d", "x", "1")}), 7, 1);
  ApplyResult first = ok(s, create);
  CHECK(first.events.size() == 1);
  ok(s, txn({create_op("d", "other", "o")}));  // the store moves on

  ApplyResult again = s.apply(create);
  CHECK(again.status.ok());
  CHECK(again.revision == first.revision);
  CHECK(again.events.empty());
  CHECK((encode(again.results) == encode(first.results)));
  CHECK(s.revision() == 2);
  CHECK(s.find("d", "x")->version == 1);

  // A refusal is remembered too, even when the retry would now succeed.
  Command update = with_client(txn({update_op("d", "y", "v")}), 7, 2);
  ApplyResult refusal = s.apply(update);
  CHECK(code(refusal) == "not_found");
  ok(s, txn({create_op("d", "y", "old")}));
  ApplyResult retried = s.apply(update);
  CHECK(code(retried) == "not_found");
  CHECK(retried.status.message() == refusal.status.message());
  CHECK(retried.failed_op == 0);
  CHECK(s.find("d", "y")->value == "old");

  // The same seq of another client, or without a client id, is another command.
  CHECK(code(s.apply(with_client(txn({create_op("d", "x", "1")}), 8, 1))) == "exists");
  CHECK(code(s.apply(txn({create_op("d", "x", "1")}))) == "exists");

  // An open_session retry gets the same session.
  Command open_cmd = with_client(session_command(CommandKind::open_session, "alice"), 7, 3);
  std::uint64_t id = ok(s, open_cmd).session;
  CHECK(ok(s, open_cmd).session == id);
  CHECK(s.sessions().size() == 1);
}

TEST_CASE("exactly once: acked_below forgets old answers, and an old duplicate is a bad request") {
  Store s;
  Command c1 = with_client(txn({create_op("d", "a", "1")}), 7, 1);
  Command c2 = with_client(txn({create_op("d", "b", "1")}), 7, 2);
  Command c3 = with_client(txn({create_op("d", "c", "1")}), 7, 3, 2);  // has the answer to 1
  ok(s, c1);
  ok(s, c2);
  ok(s, c3);
  ApplyResult r = refused(s, c1);
  CHECK(code(r) == "bad_request");
  CHECK(contains(r.status.message(), "duplicate"));
  CHECK(s.find("d", "a")->version == 1);
  CHECK(ok(s, c2).revision == 2);  // still remembered
  CHECK(ok(s, c3).revision == 3);

  // acked_below never goes back.
  ok(s, with_client(txn({create_op("d", "e", "1")}), 7, 5, 5));
  ok(s, with_client(txn({create_op("d", "f", "1")}), 7, 6, 1));
  CHECK(code(refused(s, c2)) == "bad_request");
  CHECK(code(refused(s, c3)) == "bad_request");
  CHECK(s.node_count() == 5);

  // A seq below acked_below that was never seen is refused as well: it is too late for it.
  CHECK(code(refused(s, with_client(txn({create_op("d", "late", "1")}), 7, 4))) == "bad_request");
  CHECK(s.find("d", "late") == nullptr);
}

TEST_CASE("exactly once: only answers at or above acked_below with a seq are kept") {
  Store s;
  // seq 0 is not deduplicated, even with a client id.
  ok(s, with_client(txn({create_op("d", "a", "1")}), 5, 0));
  CHECK(code(s.apply(with_client(txn({create_op("d", "a", "1")}), 5, 0))) == "exists");
  ok(s, with_client(txn({create_op("d", "b", "1")}), 5, 0));
  // A command the client already calls acknowledged is applied but not remembered.
  Command early = with_client(txn({create_op("d", "c", "1")}), 5, 3, 4);
  ok(s, early);
  CHECK(code(refused(s, early)) == "bad_request");
  CHECK(s.node_count() == 3);
  auto loaded = Store::load(s.save());
  REQUIRE(loaded.ok());
  CHECK((loaded->save() == s.save()));
}

TEST_CASE("exactly once: the table keeps the most recently active clients") {
  Store s;
  Command first = with_client(txn({create_op("d", "x", "1")}), 1, 1);
  Command kept = with_client(txn({create_op("d", "y", "1")}), 2, 1);
  ok(s, first);
  ok(s, kept);
  std::size_t failed = 0;
  for (std::uint64_t client = 3; client < fourinone::park::detail::kMaxClients + 2; ++client) {
    failed += s.apply(with_client(noop(), client, 1)).status.ok() ? 0 : 1;
    if (client == 1000) ok(s, with_client(noop(), 2, 2));  // client 2 is active again
  }
  CHECK(failed == 0);
  CHECK(ok(s, kept).revision == 2);         // remembered
  CHECK(code(s.apply(first)) == "exists");  // forgotten: applied again
}

}  // TEST_SUITE
