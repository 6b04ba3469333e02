// The Store state machine (park/store): names, creates, sequential names, updates, checks and
// revisions — all through apply() and the reads. Elsewhere: transactions, permissions and
// limits (store_txn_test.cpp), sessions, TTLs and exactly-once (store_sessions_test.cpp),
// snapshots (store_snapshot_test.cpp), and the randomized model-based test (store_model_test.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "tests/unit/store_test_util.hpp"

using fourinone::errc_name;
using fourinone::Node;
using fourinone::WatchEvent;
using fourinone::park::ApplyResult;
using fourinone::park::check_name;
using fourinone::park::Store;
using fourinone::park::StoreLimits;
using namespace store_test;

namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

std::vector<std::string> names(const std::vector<Node>& nodes) {
  std::vector<std::string> out;
  for (const Node& n : nodes) out.push_back(n.name);
  return out;
}

std::string digits20(std::uint64_t v) {
  std::string s = std::to_string(v);
  return std::string(20 - s.size(), '0') + s;
}

}  // namespace

TEST_SUITE("store") {

TEST_CASE("check_name accepts ordinary names and refuses empty, long, control, '/' and bad UTF-8") {
  CHECK(check_name("a", 255).empty());
  CHECK(check_name("node-1.v2 with spaces_and~", 255).empty());
  CHECK(check_name("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80", 255).empty());
  CHECK(check_name(std::string(255, 'x'), 255).empty());
  CHECK(check_name("12345678", 8).empty());

  CHECK(contains(check_name("", 255), "empty"));
  CHECK(contains(check_name(std::string(256, 'x'), 255), "256"));
  CHECK_FALSE(check_name("123456789", 8).empty());
  for (std::string bad : {std::string("a\x01" "b"), std::string("tab\there"), std::string("new\nline"),
                          std::string("del\x7f"), std::string(1, '\0'), std::string("a\0b", 3)}) {
    CAPTURE(bad);
    CHECK(contains(check_name(bad, 255), "control"));
  }
  CHECK(contains(check_name("a/b", 255), "'/'"));
  CHECK(contains(check_name("/", 255), "'/'"));
  for (std::string bad : {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "x\xf4\x90\x80\x80"}) {
    CHECK(contains(check_name(bad, 255), "UTF-8"));
  }
}

TEST_CASE("a bad name is refused with bad_request, a clear message, and nothing changes") {
  Store s;
  ok(s, txn({create_op("d", "x", "1")}));

  ApplyResult r = refused(s, txn({create_op("d", "a/b", "v")}));
  CHECK(code(r) == "bad_request");
  CHECK(r.failed_op == 0);
  CHECK(starts_with(r.status.message(), "op 0: bad node name 'a/b'"));

  r = refused(s, txn({create_op("d", "", "v")}));
  CHECK(code(r) == "bad_request");
  CHECK(contains(r.status.message(), "empty"));

  r = refused(s, txn({create_op("d", std::string("a\x01", 2), "v")}));
  CHECK(code(r) == "bad_request");
  CHECK(contains(r.status.message(), "'a\\x01'"));  // shown escaped, never raw
  CHECK_FALSE(contains(r.status.message(), std::string(1, '\x01')));

  r = refused(s, txn({create_op(std::string(256, 'd'), "x", "v")}));
  CHECK(code(r) == "bad_request");
  CHECK(contains(r.status.message(), "bad domain name"));
  CHECK(contains(r.status.message(), "..."));  // long names are cut in messages

  CHECK(code(refused(s, txn({sequential_op("a/b", "v")}))) == "bad_request");
  CHECK(code(refused(s, txn({update_op("d", "", "v")}))) == "bad_request");
  CHECK(code(refused(s, txn({remove_op("", "x")}))) == "bad_request");
  CHECK(code(refused(s, txn({check_op("d", "x\n", 1)}))) == "bad_request");
  CHECK(code(refused(s, txn({remove_domain_op("d/")}))) == "bad_request");

  // The name limit is the store's.
  StoreLimits limits;
  limits.max_name = 4;
  Store small(limits);
  ok(small, txn({create_op("dddd", "nnnn", "v")}));
  CHECK(code(refused(small, txn({create_op("dddd", "nnnnn", "v")}), limits)) == "bad_request");
  CHECK(code(refused(small, txn({create_op("ddddd", "n", "v")}), limits)) == "bad_request");
  CHECK(small.node_count() == 1);
}

TEST_CASE("create returns and stores the new node, and a second create of it fails with exists") {
  Store s;
  CHECK(s.revision() == 0);
  CHECK_FALSE(s.has_domain("d"));
  CHECK(s.find("d", "x") == nullptr);

  ApplyResult r = ok(s, txn({create_op("d", "x", "hello", Policy::read_write)}, "alice", 1234));
  REQUIRE(r.results.size() == 1);
  const Node& n = r.results[0].node;
  CHECK(n.domain == "d");
  CHECK(n.name == "x");
  CHECK(n.value == "hello");
  CHECK(n.version == 1);
  CHECK(n.create_revision == 1);
  CHECK(n.mod_revision == 1);
  CHECK(n.creator == "alice");
  CHECK(n.create_host == "10.0.0.1");
  CHECK(n.update_host == "10.0.0.1");
  CHECK(n.created_ms == 1234);
  CHECK(n.updated_ms == 1234);
  CHECK(n.policy == Policy::read_write);
  CHECK(n.session == 0);
  CHECK(n.expires_ms == 0);
  CHECK(r.revision == 1);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].type == WatchEvent::Type::created);
  CHECK(r.events[0].revision == 1);
  CHECK((encode(r.events[0].node) == encode(n)));

  const Node* found = s.find("d", "x");
  REQUIRE(found != nullptr);
  CHECK((encode(*found) == encode(n)));
  CHECK(s.revision() == 1);
  CHECK(s.has_domain("d"));
  CHECK(s.domain_count() == 1);
  CHECK(s.node_count() == 1);

  r = refused(s, txn({create_op("d", "x", "other")}, "bob"));
  CHECK(code(r) == "exists");
  CHECK(contains(r.status.message(), "d/x"));
  CHECK(s.find("d", "x")->value == "hello");
}

TEST_CASE("list returns a domain's nodes in creation order whatever their names") {
  Store s;
  ok(s, txn({create_op("d", "zeta", "1")}));
  ok(s, txn({create_op("d", "alpha", "2"), create_op("d", "mid", "3")}));
  ok(s, txn({create_op("other", "aaa", "x")}));
  ok(s, txn({create_op("d", "beta", "4")}));
  CHECK(names(s.list("d")) == std::vector<std::string>{"zeta", "alpha", "mid", "beta"});
  CHECK(names(s.list("other")) == std::vector<std::string>{"aaa"});
  CHECK(s.list("none").empty());

  // Removing and creating again puts the node last.
  ok(s, txn({remove_op("d", "zeta")}));
  ok(s, txn({create_op("d", "zeta", "5")}));
  CHECK(names(s.list("d")) == std::vector<std::string>{"alpha", "mid", "beta", "zeta"});
  CHECK(s.list("d").back().value == "5");
}

TEST_CASE("a domain exists while it has nodes") {
  Store s;
  ok(s, txn({create_op("d", "a", "1"), create_op("d", "b", "2")}));
  CHECK(s.has_domain("d"));
  CHECK(s.domain_revision("d") == 1);
  ok(s, txn({remove_op("d", "a")}));
  CHECK(s.has_domain("d"));
  ok(s, txn({remove_op("d", "b")}));
  CHECK_FALSE(s.has_domain("d"));
  CHECK(s.list("d").empty());
  CHECK(s.domain_revision("d") == 0);
  CHECK(s.domain_count() == 0);
  CHECK(s.node_count() == 0);
  CHECK(code(refused(s, txn({remove_domain_op("d")}))) == "not_found");

  // Created again by someone else, it is that caller's domain, not deletable.
  ok(s, txn({create_op("d", "c", "3")}, "bob"));
  CHECK(s.domain_revision("d") == s.revision());
  CHECK(code(refused(s, txn({set_deletable_op("d")}, "alice"))) == "no_permission");
  ok(s, txn({set_deletable_op("d")}, "bob"));
}

TEST_CASE("sequential names are the 20-digit revision and sort in creation order") {
  Store s;
  ok(s, txn({create_op("q", "plain", "p")}));
  ApplyResult r = ok(s, txn({sequential_op("q", "a"), sequential_op("q", "b"), sequential_op("other", "c")}));
  REQUIRE(r.results.size() == 3);
  const std::uint64_t rev = r.revision;
  CHECK(rev == 2);
  CHECK(r.results[0].node.name == digits20(rev));
  for (const auto& res : r.results) {
    const std::string& name = res.node.name;
    CAPTURE(name);
    CHECK(starts_with(name, digits20(rev)));
    CHECK(res.node.create_revision == rev);
    CHECK(std::all_of(name.begin(), name.begin() + 20, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }));
  }
  CHECK(r.results[0].node.name < r.results[1].node.name);
  CHECK(r.results[1].node.name != r.results[2].node.name);
  CHECK(s.find("q", r.results[1].node.name)->value == "b");
  CHECK(s.find("other", r.results[2].node.name)->value == "c");

  // Across commands, through revision 9 -> 10 -> 100: names keep increasing.
  std::vector<std::string> created{r.results[0].node.name, r.results[1].node.name};
  for (int i = 0; i < 110; ++i) {
    if (i % 3 == 0) ok(s, txn({create_op("elsewhere", "n" + std::to_string(i), "v")}));
    std::vector<Op> ops{sequential_op("q", std::to_string(i))};
    if (i % 4 == 0) ops.push_back(sequential_op("q", std::to_string(i) + "b"));
    r = ok(s, txn(ops));
    for (const auto& res : r.results) created.push_back(res.node.name);
  }
  std::vector<std::string> listed = names(s.list("q"));
  REQUIRE(listed.front() == "plain");
  listed.erase(listed.begin());
  CHECK(listed == created);
  CHECK(std::is_sorted(listed.begin(), listed.end()));
  CHECK(std::adjacent_find(listed.begin(), listed.end()) == listed.end());

  // A refused transaction uses up no name: the next create gets the next revision's name.
  CHECK(code(refused(s, txn({sequential_op("q", "lost"), check_op("q", "nothing", 1)}))) == "not_found");
  r = ok(s, txn({sequential_op("q", "next")}));
  CHECK(r.results[0].node.name == digits20(r.revision));
  CHECK(r.revision == s.revision());
}

TEST_CASE("update bumps the version, and the same bytes are no change") {
  Store s;
  ok(s, txn({create_op("d", "x", "v1")}, "alice", 1000));
  ok(s, txn({create_op("d", "y", "other")}, "alice", 1000));
  ApplyResult r = ok(s, txn({update_op("d", "x", "v2")}, "alice", 2000));
  REQUIRE(r.results.size() == 1);
  Node n = r.results[0].node;
  CHECK(n.value == "v2");
  CHECK(n.version == 2);
  CHECK(n.create_revision == 1);
  CHECK(n.mod_revision == 3);
  CHECK(n.created_ms == 1000);
  CHECK(n.updated_ms == 2000);
  CHECK(s.revision() == 3);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].type == WatchEvent::Type::updated);
  CHECK(r.events[0].revision == 3);
  CHECK((encode(*s.find("d", "x")) == encode(n)));
  // The order in the domain is the creation order, not the update order.
  CHECK(names(s.list("d")) == std::vector<std::string>{"x", "y"});

  // Writing the same bytes again: OK, the node as it is, no event, nothing moves.
  const std::size_t bytes = s.bytes();
  r = ok(s, txn({update_op("d", "x", "v2", 2)}, "alice", 3000));
  CHECK(r.events.empty());
  CHECK(r.revision == 3);
  CHECK(s.revision() == 3);
  CHECK(s.domain_revision("d") == 3);
  CHECK(s.bytes() == bytes);
  CHECK(r.results[0].node.version == 2);
  CHECK(s.find("d", "x")->version == 2);
  CHECK(s.find("d", "x")->updated_ms == 2000);

  // An empty value is a value like any other.
  r = ok(s, txn({update_op("d", "x", "")}));
  CHECK(s.find("d", "x")->value.empty());
  CHECK(s.find("d", "x")->version == 3);
}

TEST_CASE("compare-and-set: a wrong expected version fails with bad_version and changes nothing") {
  Store s;
  ok(s, txn({create_op("d", "x", "v1")}));
  ok(s, txn({update_op("d", "x", "v2", 1)}));
  ApplyResult r = refused(s, txn({update_op("d", "x", "v3", 1)}));
  CHECK(code(r) == "bad_version");
  CHECK(contains(r.status.message(), "has version 2, expected 1"));
  CHECK(code(refused(s, txn({update_op("d", "x", "v3", 0)}))) == "bad_version");
  CHECK(code(refused(s, txn({update_op("d", "x", "v3", 3)}))) == "bad_version");
  CHECK(code(refused(s, txn({update_op("d", "x", "v3", -2)}))) == "bad_request");
  CHECK(code(refused(s, txn({update_op("d", "nope", "v3")}))) == "not_found");
  CHECK(code(refused(s, txn({update_op("nope", "x", "v3")}))) == "not_found");
  CHECK(s.find("d", "x")->value == "v2");
  ok(s, txn({update_op("d", "x", "v3", 2)}));
  CHECK(s.find("d", "x")->version == 3);

  // Remove with a version.
  CHECK(code(refused(s, txn({remove_op("d", "x", 2)}))) == "bad_version");
  CHECK(code(refused(s, txn({remove_op("d", "x", -7)}))) == "bad_request");
  CHECK(code(refused(s, txn({remove_op("d", "y")}))) == "not_found");
  r = ok(s, txn({remove_op("d", "x", 3)}));
  CHECK(r.results[0].node.value == "v3");
  CHECK(r.results[0].node.version == 3);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].type == WatchEvent::Type::deleted);
  CHECK(r.events[0].node.value == "v3");
  CHECK(r.events[0].revision == r.revision);
  CHECK(s.find("d", "x") == nullptr);
  CHECK(code(refused(s, txn({remove_op("d", "x")}))) == "not_found");
}

TEST_CASE("check ops compare versions and change nothing") {
  Store s;
  ok(s, txn({create_op("d", "x", "v1")}));
  ok(s, txn({update_op("d", "x", "v2")}));
  ApplyResult r = ok(s, txn({check_op("d", "x", 2), check_op("d", "absent", 0), check_op("nodomain", "a", 0),
                             check_op("d", "x", kAnyVersion)}));
  CHECK(r.events.empty());
  CHECK(r.revision == 2);
  REQUIRE(r.results.size() == 4);
  CHECK(r.results[0].node.value == "v2");
  CHECK(r.results[1].node.name == "absent");
  CHECK(code(refused(s, txn({check_op("d", "x", 1)}))) == "bad_version");
  CHECK(code(refused(s, txn({check_op("d", "x", 0)}))) == "exists");
  CHECK(code(refused(s, txn({check_op("d", "absent", 1)}))) == "not_found");
  CHECK(code(refused(s, txn({check_op("d", "absent", kAnyVersion)}))) == "not_found");
  CHECK(code(refused(s, txn({check_op("d", "x", -3)}))) == "bad_request");
  // Anyone may check: it is a read.
  ok(s, txn({check_op("d", "x", 2)}, "mallory"));
}

TEST_CASE("the revision moves by one per changing command, and all its events share it") {
  Store s;
  CHECK(s.revision() == 0);
  ApplyResult r = ok(s, txn({create_op("d", "a", "1"), create_op("d", "b", "2"), create_op("e", "c", "3")}));
  CHECK(r.revision == 1);
  CHECK(s.revision() == 1);
  REQUIRE(r.events.size() == 3);
  for (const WatchEvent& e : r.events) {
    CHECK(e.revision == 1);
    CHECK(e.node.create_revision == 1);
  }
  r = ok(s, txn({update_op("d", "a", "1b"), remove_op("d", "b"), sequential_op("e", "s")}));
  CHECK(r.revision == 2);
  REQUIRE(r.events.size() == 3);
  CHECK(r.events[0].type == WatchEvent::Type::updated);
  CHECK(r.events[1].type == WatchEvent::Type::deleted);
  CHECK(r.events[2].type == WatchEvent::Type::created);
  for (const WatchEvent& e : r.events) CHECK(e.revision == 2);

  // Commands that change no node leave the revision alone.
  CHECK(ok(s, txn({})).revision == 2);
  CHECK(ok(s, txn({update_op("d", "a", "1b")})).revision == 2);
  CHECK(ok(s, txn({check_op("d", "a", 2)})).revision == 2);
  CHECK(ok(s, txn({set_deletable_op("d")})).revision == 2);
  CHECK(ok(s, noop()).revision == 2);
  ApplyResult opened = ok(s, session_command(CommandKind::open_session, "alice"));
  CHECK(opened.revision == 2);
  CHECK(ok(s, session_command(CommandKind::close_session, "alice", opened.session)).revision == 2);
  CHECK(s.revision() == 2);
  CHECK(ok(s, txn({remove_op("d", "a")})).revision == 3);
}

TEST_CASE("domain_revision is the last change in that domain") {
  Store s;
  ok(s, txn({create_op("d1", "a", "1"), create_op("d1", "b", "1")}));  // 1
  ok(s, txn({create_op("d2", "a", "1")}));                             // 2
  CHECK(s.domain_revision("d1") == 1);
  CHECK(s.domain_revision("d2") == 2);
  ok(s, txn({update_op("d1", "a", "2")}));  // 3
  CHECK(s.domain_revision("d1") == 3);
  CHECK(s.domain_revision("d2") == 2);
  ok(s, txn({remove_op("d1", "a")}));  // 4
  CHECK(s.domain_revision("d1") == 4);
  ok(s, txn({update_op("d1", "b", "1")}));  // same bytes: no change
  CHECK(s.domain_revision("d1") == 4);
  CHECK(code(refused(s, txn({update_op("d1", "b", "x"), create_op("d2", "a", "dup")}))) == "exists");
  CHECK(s.domain_revision("d1") == 4);
  ok(s, txn({sequential_op("d2", "s")}));  // 5
  CHECK(s.domain_revision("d2") == 5);
  CHECK(s.domain_revision("d1") == 4);
  ok(s, txn({remove_op("d1", "b")}));  // 6: the domain is gone
  CHECK(s.domain_revision("d1") == 0);
  CHECK(s.domain_revision("never") == 0);
}

}  // TEST_SUITE
