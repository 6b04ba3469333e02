// The Store (park/store): transactions, permissions, domain removal and limits — through
// apply() and the reads. See store_test.cpp for names, creates, updates and revisions.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/unit/store_test_util.hpp"

using fourinone::errc_name;
using fourinone::Node;
using fourinone::WatchEvent;
using fourinone::park::ApplyResult;
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

}  // namespace

TEST_SUITE("store") {

TEST_CASE("a transaction is all or nothing and names the failing op") {
  Store s;
  ok(s, txn({create_op("d", "a", "1"), create_op("d", "b", "2"), create_op("d", "c", "3", Policy::read)}));
  const std::size_t bytes = s.bytes();
  std::vector<Op> ops{create_op("d", "new", "n"),  update_op("d", "a", "1b"),    remove_op("d", "b"),
                      sequential_op("d", "s"),     create_op("fresh", "f", "f"), set_deletable_op("d"),
                      update_op("d", "new", "n2"), create_op("d", "c", "dup")};
  ApplyResult r = refused(s, txn(ops));
  CHECK(code(r) == "exists");
  CHECK(r.failed_op == 7);
  CHECK(starts_with(r.status.message(), "op 7: "));
  CHECK(names(s.list("d")) == std::vector<std::string>{"a", "b", "c"});
  CHECK(s.find("d", "a")->value == "1");
  CHECK(s.find("d", "a")->version == 1);
  CHECK_FALSE(s.has_domain("fresh"));
  CHECK(s.bytes() == bytes);
  CHECK(s.node_count() == 3);
  CHECK(s.domain_count() == 1);
  CHECK(code(refused(s, txn({remove_domain_op("d")}, "bob"))) == "no_permission");  // still not deletable

  // The first op failing is op 0.
  r = refused(s, txn({update_op("d", "zz", "x"), create_op("d", "ok", "1")}));
  CHECK(r.failed_op == 0);
  CHECK(starts_with(r.status.message(), "op 0: "));

  // Without the failing op it applies, and later ops see earlier ones.
  ops.pop_back();
  ops.push_back(check_op("d", "new", 2));
  ops.push_back(remove_op("d", "new", 2));
  r = ok(s, txn(ops));
  CHECK(r.results.size() == ops.size());
  CHECK(r.revision == 2);
  CHECK(r.events.size() == 7);
  CHECK(s.find("d", "new") == nullptr);
  CHECK(s.find("d", "a")->value == "1b");
  CHECK(s.find("fresh", "f") != nullptr);
  CHECK(names(s.list("d")).size() == 3);  // a, c and the sequential node
}

TEST_CASE("a refused transaction restores removed domains and their creator") {
  Store s;
  ok(s, txn({create_op("d", "a", "1", Policy::all)}, "alice"));
  // bob may remove alice's node; the domain disappears and comes back as bob's inside the txn.
  ApplyResult r = refused(s, txn({remove_op("d", "a"), create_op("d", "b", "2"), set_deletable_op("d"),
                                  create_op("e", "x", "1"), remove_domain_op("e"), check_op("d", "zz", 1)},
                                 "bob"));
  CHECK(code(r) == "not_found");
  CHECK(r.failed_op == 5);
  CHECK(names(s.list("d")) == std::vector<std::string>{"a"});
  CHECK(s.domain_revision("d") == 1);
  CHECK(code(refused(s, txn({set_deletable_op("d")}, "bob"))) == "no_permission");
  CHECK_FALSE(s.has_domain("e"));

  // Node removed and created again in one txn, then a failure: the old node is back as it was.
  ok(s, txn({update_op("d", "a", "2")}));
  Node before = *s.find("d", "a");
  refused(s, txn({update_op("d", "a", "3"), remove_op("d", "a"), create_op("d", "a", "4"), update_op("d", "a", "5"),
                  create_op("d", "a", "boom")}));
  CHECK((encode(*s.find("d", "a")) == encode(before)));
}

TEST_CASE("unknown op and command kinds are bad requests that change nothing") {
  Store s;
  ok(s, txn({create_op("d", "a", "1")}));
  Op weird = create_op("d", "b", "2");
  weird.kind = static_cast<OpKind>(99);
  ApplyResult r = refused(s, txn({create_op("d", "c", "3"), weird}));
  CHECK(code(r) == "bad_request");
  CHECK(r.failed_op == 1);
  Command strange = noop();
  strange.kind = static_cast<CommandKind>(77);
  CHECK(code(refused(s, strange)) == "bad_request");
  CHECK(names(s.list("d")) == std::vector<std::string>{"a"});
}

TEST_CASE("the creator has every right, and others get the node policy") {
  Store s;
  ok(s, txn({create_op("d", "r", "1", Policy::read), create_op("d", "rw", "1", Policy::read_write),
             create_op("d", "all", "1", Policy::all)},
            "alice"));

  ApplyResult r = refused(s, txn({update_op("d", "r", "2")}, "bob"));
  CHECK(code(r) == "no_permission");
  CHECK(contains(r.status.message(), "'bob' may not update d/r"));
  CHECK(code(refused(s, txn({update_op("d", "r", "1")}, "bob"))) == "no_permission");  // even a no-op write
  CHECK(code(refused(s, txn({remove_op("d", "r")}, "bob"))) == "no_permission");
  CHECK(code(refused(s, txn({remove_op("d", "rw")}, "bob"))) == "no_permission");
  ok(s, txn({check_op("d", "r", 1)}, "bob"));

  ok(s, txn({update_op("d", "rw", "2")}, "bob"));
  CHECK(s.find("d", "rw")->value == "2");
  CHECK(s.find("d", "rw")->creator == "alice");  // an update keeps the creator
  ok(s, txn({update_op("d", "all", "2")}, "bob"));
  ok(s, txn({remove_op("d", "all")}, "bob"));
  CHECK(s.find("d", "all") == nullptr);

  // The creator may do everything with a read-only node; rights follow the node, not the domain.
  ok(s, txn({update_op("d", "r", "3")}, "alice"));
  ok(s, txn({create_op("d", "bobs", "b", Policy::read)}, "bob"));
  CHECK(code(refused(s, txn({update_op("d", "bobs", "x")}, "alice"))) == "no_permission");
  ok(s, txn({update_op("d", "bobs", "x")}, "bob"));
  ok(s, txn({remove_op("d", "r")}, "alice"));
  ok(s, txn({remove_op("d", "bobs")}, "bob"));

  // A denied op inside a txn fails the whole txn.
  r = refused(s, txn({update_op("d", "rw", "3"), remove_op("d", "rw")}, "bob"));
  CHECK(r.failed_op == 1);
  CHECK(s.find("d", "rw")->value == "2");

  // Unknown policies are refused.
  CHECK(code(refused(s, txn({create_op("d", "p", "1", static_cast<Policy>(2))}))) == "bad_request");
  CHECK(code(refused(s, txn({create_op("d", "p", "1", static_cast<Policy>(0))}))) == "bad_request");
}

TEST_CASE("remove_domain: the creator, a deletable domain, or rights over every node") {
  Store s;
  ok(s, txn({create_op("d", "a", "1", Policy::all), create_op("d", "b", "2", Policy::read)}, "alice"));
  ok(s, txn({create_op("d", "c", "3", Policy::read)}, "bob"));

  ApplyResult r = refused(s, txn({remove_domain_op("d")}, "bob"));
  CHECK(code(r) == "no_permission");
  CHECK(contains(r.status.message(), "d/b"));
  CHECK(s.node_count() == 3);
  CHECK(code(refused(s, txn({set_deletable_op("d")}, "bob"))) == "no_permission");
  CHECK(code(refused(s, txn({set_deletable_op("nope")}, "alice"))) == "not_found");

  // set_deletable changes no node: no revision, no event; setting it twice is fine.
  const std::uint64_t rev = s.revision();
  r = ok(s, txn({set_deletable_op("d")}, "alice"));
  CHECK(r.events.empty());
  CHECK(s.revision() == rev);
  ok(s, txn({set_deletable_op("d")}, "alice"));

  r = ok(s, txn({remove_domain_op("d")}, "bob"));
  REQUIRE(r.results.size() == 1);
  CHECK(names(r.results[0].removed) == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(r.events.size() == 3);
  for (const WatchEvent& e : r.events) {
    CHECK(e.type == WatchEvent::Type::deleted);
    CHECK(e.revision == rev + 1);
  }
  CHECK_FALSE(s.has_domain("d"));
  CHECK(s.node_count() == 0);
  CHECK(s.bytes() == 0);

  // A fresh domain is not deletable again; but rights over every node are enough.
  ok(s, txn({create_op("d", "a", "1", Policy::all)}, "alice"));
  ok(s, txn({create_op("d", "mine", "2", Policy::read)}, "bob"));
  ok(s, txn({remove_domain_op("d")}, "bob"));
  CHECK_FALSE(s.has_domain("d"));

  // The creator removes the domain whatever the nodes' policies.
  ok(s, txn({create_op("d", "a", "1", Policy::read)}, "alice"));
  ok(s, txn({create_op("d", "b", "1", Policy::read)}, "bob"));
  ok(s, txn({remove_domain_op("d")}, "alice"));
  CHECK_FALSE(s.has_domain("d"));
}

TEST_CASE("values above max_value are refused with too_large") {
  StoreLimits limits;
  limits.max_value = 10;
  Store s(limits);
  ok(s, txn({create_op("d", "x", std::string(10, 'v'))}));
  ApplyResult r = refused(s, txn({create_op("d", "y", std::string(11, 'v'))}), limits);
  CHECK(code(r) == "too_large");
  CHECK(contains(r.status.message(), "11 bytes"));
  CHECK(code(refused(s, txn({update_op("d", "x", std::string(11, 'v'))}), limits)) == "too_large");
  CHECK(code(refused(s, txn({sequential_op("d", std::string(100, 'v'))}), limits)) == "too_large");
  CHECK(s.find("d", "x")->value == std::string(10, 'v'));
  CHECK(s.node_count() == 1);
}

TEST_CASE("bytes() grows with data and shrinks when it goes") {
  Store s;
  CHECK(s.bytes() == 0);
  ok(s, txn({create_op("d", "x", std::string(100, 'v'))}));
  const std::size_t one = s.bytes();
  CHECK(one >= 100 + 2);
  ok(s, txn({update_op("d", "x", std::string(1100, 'v'))}));
  CHECK(s.bytes() >= one + 1000);
  ok(s, txn({update_op("d", "x", std::string(100, 'w'))}));
  CHECK(s.bytes() == one);
  ok(s, txn({create_op("d", "y", std::string(5000, 'v'))}));
  CHECK(s.bytes() >= one + 5000);
  ok(s, txn({remove_op("d", "y")}));
  CHECK(s.bytes() == one);
  ok(s, txn({remove_op("d", "x")}));
  CHECK(s.bytes() == 0);
}

}  // TEST_SUITE
