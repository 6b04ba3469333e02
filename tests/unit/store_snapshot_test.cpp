// The Store (park/store): snapshots. save() then load() gives an equal store; load() of
// damaged or foreign bytes is a bad_request and never a crash or a broken store.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/store_test_util.hpp"

using fourinone::errc_name;
using fourinone::Node;
using fourinone::park::ApplyResult;
using fourinone::park::NodeRef;
using fourinone::park::Store;
using namespace store_test;

namespace {

// Every read of the store as text, for the domains named.
std::string reads(const Store& s, const std::vector<std::string>& domains) {
  std::string out = "rev " + std::to_string(s.revision()) + " bytes " + std::to_string(s.bytes()) + " nodes " +
                    std::to_string(s.node_count()) + " domains " + std::to_string(s.domain_count()) + "\n";
  for (const auto& [id, rec] : s.sessions()) out += encode(rec);
  for (const std::string& d : domains) {
    out += d + (s.has_domain(d) ? " +" : " -") + std::to_string(s.domain_revision(d)) + "\n";
    for (const Node& n : s.list(d)) {
      out += encode(n);
      const Node* found = s.find(d, n.name);
      out += found ? encode(*found) : std::string("missing");
    }
  }
  for (const NodeRef& r : s.ttl_expired(kNever, kAll)) out += "ttl " + encode(r);
  for (const NodeRef& r : s.created_before(kNever, kAll)) out += "created " + encode(r);
  return out;
}

// A store with a bit of everything: sessions with heartbeat nodes, TTL nodes, a deletable
// domain, removed nodes, and remembered answers of two clients.
Store rich_store() {
  Store s;
  std::uint64_t a = open(s, "alice", 3000);
  std::uint64_t b = open(s, "bob", 4000);
  ok(s, txn({create_op("d", "x", "1", Policy::read), create_op("d", "y", std::string(300, 'y'), Policy::read_write),
             heartbeat_op("d", "hb-a"), sequential_op("seq", "s1")},
            "alice", 1000, a));
  ok(s, txn({heartbeat_op("e", "hb-b"), ttl_op("e", "t1", 500), sequential_op("seq", "s2", Policy::read)}, "bob",
            1100, b));
  ok(s, txn({set_deletable_op("e")}, "bob"));
  ok(s, with_client(txn({update_op("d", "y", "2"), remove_op("seq", "00000000000000000001")}, "alice", 1200), 7, 1));
  (void)s.apply(with_client(txn({update_op("d", "x", "z")}, "bob", 1300), 7, 2));  // refused, remembered
  ok(s, with_client(session_command(CommandKind::open_session, "carol"), 9, 4, 2));
  ok(s, txn({create_op("f", "gone", "g")}));
  ok(s, txn({remove_op("f", "gone")}));
  return s;
}

const std::vector<std::string> kRichDomains{"d", "e", "f", "seq", "none"};

// Checks that a loaded store is consistent: it saves and loads again, new nodes go where they
// should, and taking it apart through the ordinary commands leaves nothing behind. Returns
// what went wrong, or "".
std::string take_apart(Store& s) {
  auto again = Store::load(s.save());
  if (!again.ok() || again->save() != s.save()) return "save/load round trip";
  for (const std::string& d : kRichDomains) {
    for (int k = 0; k < 3; ++k) {
      ApplyResult r = s.apply(txn({create_op(d, "new" + std::to_string(k), "v"), sequential_op(d, "s")}));
      // (a damaged node name may be the sequential name the store picks)
      if (!r.status.ok() && r.status.code() != fourinone::Errc::exists) return r.status.to_string();
      if (r.status.ok() && s.list(d).back().name != r.results.at(1).node.name) return "creation order in " + d;
    }
  }
  std::vector<std::uint64_t> ids;
  for (const auto& [id, rec] : s.sessions()) ids.push_back(id);
  for (std::uint64_t id : ids) {
    if (!s.apply(session_command(CommandKind::expire_session, "", id)).status.ok()) return "expire_session";
  }
  if (!s.apply(expire_nodes(s.ttl_expired(kNever, kAll))).status.ok()) return "expire TTL nodes";
  if (!s.apply(expire_nodes(s.created_before(kNever, kAll))).status.ok()) return "expire old nodes";
  if (s.node_count() != 0 || s.domain_count() != 0 || s.bytes() != 0) return "nodes left behind";
  return "";
}

}  // namespace

TEST_SUITE("store") {

TEST_CASE("save and load give an equal store") {
  Store empty;
  auto loaded_empty = Store::load(empty.save());
  REQUIRE(loaded_empty.ok());
  CHECK((loaded_empty->save() == empty.save()));
  CHECK(reads(*loaded_empty, kRichDomains) == reads(empty, kRichDomains));

  Store s = rich_store();
  const std::string bytes = s.save();
  auto loaded = Store::load(bytes);
  REQUIRE(loaded.ok());
  Store& t = *loaded;
  CHECK((t.save() == bytes));
  CHECK(reads(t, kRichDomains) == reads(s, kRichDomains));
  CHECK(t.node_count() == s.node_count());
  CHECK(s.node_count() == 6);

  // Both go on identically: counters, indices, sessions and remembered answers came along.
  std::vector<Command> next{
      with_client(txn({update_op("d", "y", "2"), remove_op("seq", "00000000000000000001")}, "alice", 1200), 7, 1),
      with_client(txn({update_op("d", "x", "z")}, "bob", 1300), 7, 2),
      session_command(CommandKind::open_session, "dave"),
      txn({sequential_op("seq", "s3"), create_op("d", "n", "1")}, "dave", 2000),
      txn({remove_domain_op("e")}, "dave"),  // deletable: takes bob's heartbeat node too
      expire_nodes(s.ttl_expired(kNever, kAll)),
      session_command(CommandKind::close_session, "alice", 1),
      session_command(CommandKind::expire_session, "", 2),
      expire_nodes(s.created_before(1150, kAll)),
  };
  for (const Command& c : next) {
    ApplyResult a = s.apply(c);
    ApplyResult b = t.apply(c);
    CHECK((encode(a) == encode(b)));
  }
  CHECK((t.save() == s.save()));
  CHECK(reads(t, kRichDomains) == reads(s, kRichDomains));
}

TEST_CASE("a version 1 snapshot (before the message queue) still loads, with no channels") {
  Store s;
  ok(s, txn({create_op("d", "x", "1"), sequential_op("seq", "s1")}, "alice", 1000));
  std::string v2 = s.save();
  // Version 2 = version 1 + the queues section at the end: a string holding next_token = 1
  // and no channels (8-byte length + two u64).
  std::string v1 = v2.substr(0, v2.size() - 24);
  v1[0] = 1;
  auto loaded = Store::load(v1);
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
  CHECK(loaded->save() == v2);
  CHECK(loaded->queues().names().empty());
}

TEST_CASE("load refuses garbage, truncated and trailing bytes with bad_request") {
  CHECK(errc_name(Store::load("").status().code()) == std::string("bad_request"));
  const std::string bytes = rich_store().save();
  std::string other_version = bytes;
  other_version[0] = 3;  // a version from the future
  auto r = Store::load(other_version);
  REQUIRE_FALSE(r.ok());
  CHECK(errc_name(r.status().code()) == std::string("bad_request"));
  CHECK(contains(r.status().message(), "version"));

  for (std::size_t n = 0; n < bytes.size(); ++n) {
    CAPTURE(n);
    auto cut = Store::load(std::string_view(bytes).substr(0, n));
    REQUIRE_FALSE(cut.ok());
    CHECK(errc_name(cut.status().code()) == std::string("bad_request"));
  }
  CHECK_FALSE(Store::load(bytes + '\0').ok());
  CHECK_FALSE(Store::load(bytes + bytes).ok());

  std::mt19937_64 rng(12345);
  for (int i = 0; i < 500; ++i) {
    std::string junk(rng() % 200, '\0');
    for (char& ch : junk) ch = static_cast<char>(rng());
    if (i % 2 == 0) junk = std::string("\x01\x01", 2) + junk;  // a plausible header
    auto j = Store::load(junk);
    if (!j.ok()) CHECK(errc_name(j.status().code()) == std::string("bad_request"));
  }
}

TEST_CASE("load of a damaged snapshot never builds a broken store") {
  const std::string bytes = rich_store().save();
  std::size_t accepted = 0, refused = 0;
  for (std::size_t i = 1; i < bytes.size(); ++i) {
    for (unsigned flip : {0x01u, 0x02u, 0x04u, 0x08u, 0x10u, 0x20u, 0x40u, 0x80u, 0xffu}) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ flip);
      auto r = Store::load(damaged);
      if (!r.ok()) {
        if (r.status().code() != fourinone::Errc::bad_request) FAIL_CHECK(r.status().to_string());
        ++refused;
        continue;
      }
      ++accepted;
      CAPTURE(i);
      CAPTURE(flip);
      CHECK(take_apart(*r).empty());
    }
  }
  // Values, names and timestamps may change without breaking anything; the rest is caught.
  CHECK(accepted > 0);
  CHECK(refused > 0);
}

}  // TEST_SUITE
