// CacheStore (cache/store): the set modes and their errors, versions, TTLs (lazy and swept),
// LRU and second-chance eviction, byte accounting, replica writes, iteration and stats (the
// randomized model test is cache_store_model_test.cpp). Time is a plain number passed in;
// nothing sleeps.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cache/store/cache_store.hpp"
#include "tests/unit/cache_store_test_util.hpp"

using fourinone::Errc;
using namespace cache_store_test;  // CacheStore, SetMode, StoredValue, ... and the helpers


TEST_SUITE("cache store") {

// --- modes, versions, errors -------------------------------------------------------------------

TEST_CASE("a new key gets version 1 and each set of it adds 1") {
  CacheStore s(kBig);
  auto r = cs_set(s, "k", "a");
  REQUIRE(r.ok());
  CHECK(r->version == 1);
  CHECK(r->value == "a");
  CHECK(r->expires_ms == 0);
  CHECK(cs_set(s, "k", "b")->version == 2);
  CHECK(s.set("k", "c", SetMode::replace, 0, 0, kT0)->version == 3);
  CHECK(s.set("k", "d", SetMode::cas, 3, 0, kT0)->version == 4);
  auto got = s.get("k", kT0);
  REQUIRE(got);
  CHECK(got->value == "d");
  CHECK(got->version == 4);
  CHECK(cs_set(s, "other", "x")->version == 1);
}

TEST_CASE("get of a key never written returns nothing") {
  CacheStore s(kBig);
  CHECK_FALSE(s.get("nope", kT0));
  CHECK(s.size() == 0);
}

TEST_CASE("add stores an absent key and refuses a present one with exists, keeping it") {
  CacheStore s(kBig);
  auto r = s.set("k", "first", SetMode::add, 0, 0, kT0);
  REQUIRE(r.ok());
  CHECK(r->version == 1);
  auto again = s.set("k", "second", SetMode::add, 0, 0, kT0);
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == Errc::exists);
  CHECK(s.get("k", kT0)->value == "first");
  CHECK(s.get("k", kT0)->version == 1);
}

TEST_CASE("replace refuses an absent key with not_found and overwrites a present one") {
  CacheStore s(kBig);
  auto r = s.set("k", "v", SetMode::replace, 0, 0, kT0);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Errc::not_found);
  CHECK(s.size() == 0);
  REQUIRE(cs_set(s, "k", "v1").ok());
  auto ok = s.set("k", "v2", SetMode::replace, 0, 0, kT0);
  REQUIRE(ok.ok());
  CHECK(ok->value == "v2");
  CHECK(ok->version == 2);
}

TEST_CASE("cas writes only with the current version and a mismatch names both versions") {
  CacheStore s(kBig);
  auto absent = s.set("k", "v", SetMode::cas, 1, 0, kT0);
  REQUIRE_FALSE(absent.ok());
  CHECK(absent.status().code() == Errc::not_found);

  REQUIRE(cs_set(s, "k", "v1").ok());
  REQUIRE(cs_set(s, "k", "v2").ok());  // version 2
  auto wrong = s.set("k", "v3", SetMode::cas, 7, 0, kT0);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().code() == Errc::bad_version);
  CHECK(cs_contains(wrong.status().message(), "7"));
  CHECK(cs_contains(wrong.status().message(), "2"));
  CHECK(s.get("k", kT0)->value == "v2");

  auto right = s.set("k", "v3", SetMode::cas, 2, 0, kT0);
  REQUIRE(right.ok());
  CHECK(right->version == 3);
  CHECK(right->value == "v3");
  // The version it just replaced no longer matches.
  CHECK(s.set("k", "v4", SetMode::cas, 2, 0, kT0).status().code() == Errc::bad_version);
}

TEST_CASE("set ignores expected_version") {
  CacheStore s(kBig);
  REQUIRE(s.set("k", "a", SetMode::set, 99, 0, kT0).ok());
  CHECK(s.set("k", "b", SetMode::set, 99, 0, kT0)->version == 2);
}

TEST_CASE("remove with version 0 removes whatever is there and returns it") {
  CacheStore s(kBig);
  REQUIRE(cs_set(s, "k", "a").ok());
  REQUIRE(cs_set(s, "k", "b", kT0, 500).ok());
  auto r = s.remove("k", 0, kT0);
  REQUIRE(r.ok());
  CHECK(r->value == "b");
  CHECK(r->version == 2);
  CHECK(r->expires_ms == kT0 + 500);
  CHECK_FALSE(s.get("k", kT0));
  CHECK(s.stats().bytes == 0);
}

TEST_CASE("remove with the right version removes and with a wrong one is bad_version and keeps the key") {
  CacheStore s(kBig);
  REQUIRE(cs_set(s, "k", "a").ok());
  auto wrong = s.remove("k", 5, kT0);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().code() == Errc::bad_version);
  CHECK(cs_contains(wrong.status().message(), "5"));
  CHECK(s.get("k", kT0));
  auto right = s.remove("k", 1, kT0);
  REQUIRE(right.ok());
  CHECK(right->value == "a");
  CHECK(s.size() == 0);
}

TEST_CASE("remove of an absent key is not_found") {
  CacheStore s(kBig);
  CHECK(s.remove("k", 0, kT0).status().code() == Errc::not_found);
  CHECK(s.remove("k", 3, kT0).status().code() == Errc::not_found);
}

TEST_CASE("keys are compared as bytes, including empty keys, empty values and NULs") {
  CacheStore s(kBig);
  const std::string nul1("a\0b", 3), nul2("a\0c", 3);
  REQUIRE(cs_set(s, nul1, "one").ok());
  REQUIRE(cs_set(s, nul2, std::string("x\0y", 3)).ok());
  REQUIRE(cs_set(s, "", "").ok());
  CHECK(s.get(nul1, kT0)->value == "one");
  CHECK(s.get(nul2, kT0)->value == std::string("x\0y", 3));
  CHECK(s.get("", kT0)->value.empty());
  CHECK_FALSE(s.get("a", kT0));
  CHECK(s.size() == 3);
}

TEST_CASE("a long value can be overwritten by a short one and back") {
  CacheStore s(kBig);
  const std::string big(5000, 'x');
  REQUIRE(cs_set(s, "k", big).ok());
  REQUIRE(cs_set(s, "k", "s").ok());
  CHECK(s.get("k", kT0)->value == "s");
  REQUIRE(cs_set(s, "k", big).ok());
  CHECK(s.get("k", kT0)->value == big);
  CHECK(s.stats().bytes == cs_charge("k", big));
}

// --- TTL -------------------------------------------------------------------------------------

TEST_CASE("an entry with a TTL is there until now + ttl and gone from then on, lazily on get") {
  CacheStore s(kBig);
  auto r = cs_set(s, "k", "v", kT0, 100);
  REQUIRE(r.ok());
  CHECK(r->expires_ms == kT0 + 100);
  CHECK(s.get("k", kT0 + 99));
  CHECK(s.stats().expired == 0);
  CHECK_FALSE(s.get("k", kT0 + 100));
  const StoreStats st = s.stats();
  CHECK(st.expired == 1);
  CHECK(st.keys == 0);
  CHECK(st.bytes == 0);
  // Once dropped it is not counted again.
  CHECK_FALSE(s.get("k", kT0 + 200));
  CHECK(s.stats().expired == 1);
}

TEST_CASE("a set without a TTL removes an earlier TTL and a set with one replaces it") {
  CacheStore s(kBig);
  REQUIRE(cs_set(s, "k", "v", kT0, 100).ok());
  CHECK(cs_set(s, "k", "v", kT0 + 50, 0)->expires_ms == 0);
  CHECK(s.get("k", kT0 + 1'000'000));
  CHECK(cs_set(s, "k", "v", kT0, 10)->expires_ms == kT0 + 10);
  CHECK(cs_set(s, "k", "v", kT0 + 5, 1000)->expires_ms == kT0 + 1005);
  CHECK(s.get("k", kT0 + 500));
}

TEST_CASE("a negative TTL means no TTL and a huge one saturates instead of overflowing") {
  CacheStore s(kBig);
  CHECK(cs_set(s, "neg", "v", kT0, -5)->expires_ms == 0);
  const std::int64_t huge = std::numeric_limits<std::int64_t>::max();
  auto r = cs_set(s, "huge", "v", kT0, huge);
  REQUIRE(r.ok());
  CHECK(r->expires_ms == huge);
  CHECK(s.get("huge", kT0 + 1'000'000'000));
}

TEST_CASE("an expired entry counts as absent for add, replace, cas and remove") {
  CacheStore s(kBig);
  const std::int64_t later = kT0 + 10;
  for (const char* key : {"add", "replace", "cas", "remove"}) REQUIRE(cs_set(s, key, "old", kT0, 10).ok());

  auto add = s.set("add", "new", SetMode::add, 0, 0, later);
  REQUIRE(add.ok());
  CHECK(add->version == 1);
  CHECK(s.set("replace", "new", SetMode::replace, 0, 0, later).status().code() == Errc::not_found);
  CHECK(s.set("cas", "new", SetMode::cas, 1, 0, later).status().code() == Errc::not_found);
  CHECK(s.remove("remove", 0, later).status().code() == Errc::not_found);

  const StoreStats st = s.stats();
  CHECK(st.expired == 4);
  CHECK(st.keys == 1);
  CHECK(st.bytes == cs_charge("add", "new"));
  CHECK(cs_keys(s) == std::set<std::string>{"add"});
}

TEST_CASE("a set over an expired entry starts again at version 1") {
  CacheStore s(kBig);
  REQUIRE(cs_set(s, "k", "a", kT0, 10).ok());
  REQUIRE(cs_set(s, "k", "b", kT0, 10).ok());  // version 2, expires at kT0 + 10
  auto r = cs_set(s, "k", "c", kT0 + 10, 0);
  REQUIRE(r.ok());
  CHECK(r->version == 1);
  CHECK(r->expires_ms == 0);
  CHECK(s.stats().expired == 1);
  CHECK(s.stats().bytes == cs_charge("k", "c"));
}

TEST_CASE("sweep_expired drops the expired entries and keeps the live ones") {
  CacheStore s(kBig);
  REQUIRE(cs_set(s, "short", "v", kT0, 10).ok());
  REQUIRE(cs_set(s, "long", "v", kT0, 1000).ok());
  REQUIRE(cs_set(s, "never", "v", kT0, 0).ok());
  CHECK(s.sweep_expired(kT0 + 9, 100) == 0);
  CHECK(s.sweep_expired(kT0 + 10, 100) == 1);
  CHECK(cs_keys(s) == std::set<std::string>{"long", "never"});
  CHECK(s.stats().expired == 1);
  CHECK(s.stats().bytes == cs_charge("long", "v") + cs_charge("never", "v"));
  CHECK(s.sweep_expired(kT0 + 5000, 100) == 1);
  CHECK(cs_keys(s) == std::set<std::string>{"never"});
  CHECK(s.sweep_expired(kT0 + 5000, 0) == 0);
}

TEST_CASE("a sweep with a budget of 0 looks at nothing") {
  CacheStore s(kBig);
  REQUIRE(cs_set(s, "k", "v", kT0, 1).ok());
  CHECK(s.sweep_expired(kT0 + 100, 0) == 0);
  CHECK(s.size() == 1);
}

TEST_CASE("sweeps with a small budget drop at most the budget each and eventually every expired entry") {
  // 100 entries, every third one expiring; between sweeps the live ones are read and written
  // (which moves them in the LRU list the sweep walks) and new live keys arrive.
  CacheStore s(kBig);
  std::set<std::string> doomed;
  for (int i = 0; i < 100; ++i) {
    const std::string key = "k" + std::to_string(i);
    const bool expires = i % 3 == 0;
    REQUIRE(cs_set(s, key, "v", kT0, expires ? 50 : 0).ok());
    if (expires) doomed.insert(key);
  }
  const std::int64_t now = kT0 + 50;
  constexpr std::size_t kBudget = 7;
  std::size_t dropped = 0;
  int calls = 0;
  int fresh = 0;
  // Two passes over at most 100 + the new arrivals' worth of entries are always enough.
  while (dropped < doomed.size() && calls < 60) {
    const std::size_t n = s.sweep_expired(now, kBudget);
    CHECK(n <= kBudget);
    dropped += n;
    ++calls;
    for (int i = 1; i < 100; i += 7) {
      if (i % 3 != 0) REQUIRE(s.get("k" + std::to_string(i), now));
    }
    REQUIRE(cs_set(s, "k" + std::to_string(1 + 3 * (calls % 30)), "w", now).ok());
    REQUIRE(cs_set(s, "new" + std::to_string(fresh++), "v", now).ok());
  }
  CHECK(calls > 1);
  CHECK(dropped == doomed.size());
  for (const std::string& k : cs_keys(s)) CHECK(doomed.count(k) == 0);
  CHECK(s.size() == 100 - doomed.size() + static_cast<std::size_t>(fresh));
  CHECK(s.stats().expired == doomed.size());
  CHECK(s.sweep_expired(now, 1000) == 0);
}

// --- LRU and bytes ---------------------------------------------------------------------------

TEST_CASE("every entry is charged key + value + overhead bytes through sets, growth, shrink and removes") {
  CacheStore s(kBig);
  REQUIRE(cs_set(s, "a", "xyz").ok());
  CHECK(s.stats().bytes == 1 + 3 + kEntryOverhead);
  REQUIRE(cs_set(s, "bb", std::string(100, 'q')).ok());
  CHECK(s.stats().bytes == (1 + 3 + kEntryOverhead) + (2 + 100 + kEntryOverhead));
  REQUIRE(cs_set(s, "bb", "").ok());
  CHECK(s.stats().bytes == (1 + 3 + kEntryOverhead) + (2 + kEntryOverhead));
  REQUIRE(s.remove("a", 0, kT0).ok());
  CHECK(s.stats().bytes == 2 + kEntryOverhead);
  CHECK(s.stats().keys == 1);
  CHECK(s.stats().max_bytes == kBig);
  CHECK(s.max_bytes() == kBig);
}

TEST_CASE("when full, a write evicts the least recently used entry first") {
  CacheStore s(3 * kSlot);
  REQUIRE(cs_set(s, "a", kTen).ok());
  REQUIRE(cs_set(s, "b", kTen).ok());
  REQUIRE(cs_set(s, "c", kTen).ok());
  CHECK(s.stats().evictions == 0);
  REQUIRE(cs_set(s, "d", kTen).ok());
  CHECK(cs_keys(s) == std::set<std::string>{"b", "c", "d"});
  REQUIRE(cs_set(s, "e", kTen).ok());
  CHECK(cs_keys(s) == std::set<std::string>{"c", "d", "e"});
  CHECK(s.stats().evictions == 2);
  CHECK(s.stats().bytes == 3 * kSlot);
}

TEST_CASE("a get makes an entry the most recently used, so it outlives older ones") {
  CacheStore s(3 * kSlot);
  REQUIRE(cs_set(s, "a", kTen).ok());
  REQUIRE(cs_set(s, "b", kTen).ok());
  REQUIRE(cs_set(s, "c", kTen).ok());
  REQUIRE(s.get("a", kT0));
  REQUIRE(cs_set(s, "d", kTen).ok());
  CHECK(cs_keys(s) == std::set<std::string>{"a", "c", "d"});
  REQUIRE(s.get("c", kT0));
  REQUIRE(cs_set(s, "e", kTen).ok());  // by age a, d, c after that get: a goes
  CHECK(cs_keys(s) == std::set<std::string>{"c", "d", "e"});
}

TEST_CASE("a write of an existing key makes it the most recently used and a failed write does not") {
  CacheStore s(3 * kSlot);
  REQUIRE(cs_set(s, "a", kTen).ok());
  REQUIRE(cs_set(s, "b", kTen).ok());
  REQUIRE(cs_set(s, "c", kTen).ok());
  REQUIRE(cs_set(s, "a", "9876543210").ok());
  REQUIRE(s.set("b", kTen, SetMode::add, 0, 0, kT0).status().code() == Errc::exists);
  REQUIRE(s.set("b", kTen, SetMode::cas, 42, 0, kT0).status().code() == Errc::bad_version);
  REQUIRE(cs_set(s, "d", kTen).ok());
  CHECK(cs_keys(s) == std::set<std::string>{"a", "c", "d"});
}

TEST_CASE("a miss, a failed remove and for_each do not change recency") {
  CacheStore s(2 * kSlot);
  REQUIRE(cs_set(s, "a", kTen).ok());
  REQUIRE(cs_set(s, "b", kTen).ok());
  CHECK_FALSE(s.get("zz", kT0));
  CHECK(s.remove("a", 9, kT0).status().code() == Errc::bad_version);
  (void)cs_keys(s);
  REQUIRE(cs_set(s, "c", kTen).ok());
  CHECK(cs_keys(s) == std::set<std::string>{"b", "c"});
}

TEST_CASE("a growing entry evicts others as needed but never itself") {
  CacheStore s(3 * kSlot);
  REQUIRE(cs_set(s, "a", kTen).ok());
  REQUIRE(cs_set(s, "b", kTen).ok());
  REQUIRE(cs_set(s, "c", kTen).ok());
  // "a" is the oldest; grown by one slot's worth it needs one other entry to go.
  const std::string bigger(10 + kSlot, 'x');
  auto r = cs_set(s, "a", bigger);
  REQUIRE(r.ok());
  CHECK(r->version == 2);
  CHECK(cs_keys(s) == std::set<std::string>{"a", "c"});
  // Grown to fill the whole store, it is the only one left.
  const std::string whole(3 * kSlot - 1 - kEntryOverhead, 'y');
  REQUIRE(cs_set(s, "a", whole).ok());
  CHECK(cs_keys(s) == std::set<std::string>{"a"});
  CHECK(s.stats().bytes == 3 * kSlot);
  CHECK(s.stats().evictions == 2);
  CHECK(s.get("a", kT0)->value == whole);
}

TEST_CASE("an entry above max_bytes is too_large, names its sizes and leaves the store unchanged") {
  CacheStore s(3 * kSlot);
  REQUIRE(cs_set(s, "a", kTen).ok());
  REQUIRE(cs_set(s, "b", kTen, kT0, 5).ok());  // expired by kT0 + 5, but must not even be dropped
  const auto before = cs_contents(s);
  const std::string before_stats = cs_show(s.stats());

  const std::string huge(3 * kSlot + 7, 'z');  // alone above max_bytes, whatever the key
  for (SetMode mode : {SetMode::set, SetMode::add, SetMode::replace, SetMode::cas}) {
    for (const char* key : {"a", "b", "new"}) {
      CAPTURE(key);
      auto r = s.set(key, huge, mode, 1, 0, kT0 + 5);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == Errc::too_large);
    }
  }
  auto r = s.set("new", huge, SetMode::set, 0, 0, kT0 + 5);
  const std::string msg = r.status().message();
  CAPTURE(msg);
  CHECK(cs_contains(msg, std::to_string(cs_charge("new", huge))));  // the entry's charge
  CHECK(cs_contains(msg, std::to_string(huge.size())));              // the value's size
  CHECK(cs_contains(msg, std::to_string(3 * kSlot)));                // max_bytes
  CHECK(s.apply_replica("a", StoredValue{huge, 9, 0}).code() == Errc::too_large);

  CHECK(cs_contents(s) == before);
  CHECK(cs_show(s.stats()) == before_stats);

  // Exactly max_bytes fits, and it takes the whole store.
  const std::string exact(3 * kSlot - 1 - kEntryOverhead, 'e');
  REQUIRE(cs_set(s, "n", exact, kT0).ok());
  CHECK(cs_keys(s) == std::set<std::string>{"n"});
  CHECK(s.stats().bytes == 3 * kSlot);
}

TEST_CASE("a store with max_bytes 0 refuses every write") {
  CacheStore s(0);
  CHECK(cs_set(s, "", "").status().code() == Errc::too_large);
  CHECK(s.size() == 0);
}

// --- replica ---------------------------------------------------------------------------------

TEST_CASE("apply_replica stores the primary's value, version and expiry exactly") {
  CacheStore s(kBig);
  REQUIRE(s.apply_replica("k", StoredValue{"v", 41, kT0 + 7}).ok());
  auto got = s.get("k", kT0);
  REQUIRE(got);
  CHECK(cs_show(*got) == cs_show(StoredValue{"v", 41, kT0 + 7}));
  // Over an existing entry, even with a lower version.
  REQUIRE(cs_set(s, "k", "local").ok());  // version 42
  REQUIRE(s.apply_replica("k", StoredValue{"w", 3, 0}).ok());
  CHECK(cs_show(*s.get("k", kT0)) == cs_show(StoredValue{"w", 3, 0}));
  CHECK(cs_set(s, "k", "x")->version == 4);
  CHECK(s.stats().bytes == cs_charge("k", "x"));
  // Its TTL is honoured like any other.
  REQUIRE(s.apply_replica("t", StoredValue{"v", 5, kT0 + 7}).ok());
  CHECK_FALSE(s.get("t", kT0 + 7));
}

TEST_CASE("apply_replica evicts least recently used entries to make room") {
  CacheStore s(3 * kSlot);
  REQUIRE(cs_set(s, "a", kTen).ok());
  REQUIRE(cs_set(s, "b", kTen).ok());
  REQUIRE(cs_set(s, "c", kTen).ok());
  REQUIRE(s.apply_replica("d", StoredValue{kTen, 8, 0}).ok());
  CHECK(cs_keys(s) == std::set<std::string>{"b", "c", "d"});
  REQUIRE(s.apply_replica("c", StoredValue{kTen + kTen, 9, 0}).ok());  // grows by 10: "b" goes
  CHECK(cs_keys(s) == std::set<std::string>{"c", "d"});
  CHECK(s.stats().evictions == 2);
  CHECK(s.stats().bytes == kSlot + kSlot + 10);
}

TEST_CASE("apply_replica_remove removes a present key and ignores an absent one") {
  CacheStore s(kBig);
  REQUIRE(cs_set(s, "a", "v").ok());
  REQUIRE(cs_set(s, "b", "v", kT0, 1).ok());
  s.apply_replica_remove("a");
  s.apply_replica_remove("nope");
  s.apply_replica_remove("b");  // expired or not, it goes, and does not count as expired
  CHECK(s.size() == 0);
  CHECK(s.stats().bytes == 0);
  CHECK(s.stats().expired == 0);
}

// --- iteration, clear, stats -----------------------------------------------------------------

TEST_CASE("for_each visits every entry once with its key and entry") {
  CacheStore s(kBig);
  REQUIRE(cs_set(s, "a", "1").ok());
  REQUIRE(cs_set(s, "b", "2", kT0, 50).ok());
  REQUIRE(cs_set(s, "b", "3", kT0, 50).ok());
  std::map<std::string, std::string> expect{{"a", cs_show(StoredValue{"1", 1, 0})},
                                            {"b", cs_show(StoredValue{"3", 2, kT0 + 50})}};
  CHECK(cs_contents(s) == expect);
  int visits = 0;
  s.for_each([&](const std::string&, const StoredValue&) { ++visits; });
  CHECK(visits == 2);
}

TEST_CASE("for_each visits oldest first, so a backup replaying it ends with the same LRU order") {
  CacheStore primary(3 * kSlot);
  REQUIRE(cs_set(primary, "a", kTen).ok());
  REQUIRE(cs_set(primary, "b", kTen).ok());
  REQUIRE(cs_set(primary, "c", kTen).ok());
  REQUIRE(primary.get("a", kT0));
  CacheStore backup(3 * kSlot);
  std::vector<std::string> order;
  primary.for_each([&](const std::string& k, const StoredValue& v) {
    order.push_back(k);
    REQUIRE(backup.apply_replica(k, v).ok());
  });
  CHECK(order == std::vector<std::string>{"b", "c", "a"});
  REQUIRE(cs_set(backup, "d", kTen).ok());
  CHECK(cs_keys(backup) == std::set<std::string>{"c", "a", "d"});
}

TEST_CASE("remove_if drops exactly the keys chosen and keeps the bytes right") {
  CacheStore s(kBig);
  for (int i = 0; i < 10; ++i) REQUIRE(cs_set(s, "k" + std::to_string(i), "v").ok());
  const std::size_t n = s.remove_if([](const std::string& k) { return (k.back() - '0') % 2 == 0; });
  CHECK(n == 5);
  CHECK(cs_keys(s) == std::set<std::string>{"k1", "k3", "k5", "k7", "k9"});
  CHECK(s.stats().bytes == 5 * cs_charge("k1", "v"));
  CHECK(s.remove_if([](const std::string&) { return false; }) == 0);
  CHECK(s.remove_if([](const std::string&) { return true; }) == 5);
  CHECK(s.size() == 0);
  CHECK(s.stats().bytes == 0);
}

TEST_CASE("clear empties the store, keeps the counters, and the store works afterwards") {
  CacheStore s(2 * kSlot);
  REQUIRE(cs_set(s, "a", kTen).ok());
  REQUIRE(cs_set(s, "b", kTen).ok());
  REQUIRE(cs_set(s, "c", kTen).ok());  // one eviction
  REQUIRE(s.get("c", kT0));
  CHECK_FALSE(s.get("a", kT0));
  s.clear();
  StoreStats st = s.stats();
  CHECK(st.keys == 0);
  CHECK(st.bytes == 0);
  CHECK(st.evictions == 1);
  CHECK(st.hits == 1);
  CHECK(st.misses == 1);
  CHECK_FALSE(s.get("b", kT0));
  CHECK(s.sweep_expired(kT0, 10) == 0);
  REQUIRE(cs_set(s, "b", kTen).ok());
  CHECK(s.get("b", kT0)->version == 1);
  CHECK(s.stats().bytes == kSlot);
}

TEST_CASE("hits and misses are counted by get alone") {
  CacheStore s(kBig);
  REQUIRE(cs_set(s, "a", "v").ok());
  REQUIRE(cs_set(s, "t", "v", kT0, 5).ok());
  CHECK(s.set("a", "v", SetMode::add, 0, 0, kT0).status().code() == Errc::exists);
  CHECK(s.set("zz", "v", SetMode::replace, 0, 0, kT0).status().code() == Errc::not_found);
  CHECK(s.remove("zz", 0, kT0).status().code() == Errc::not_found);
  CHECK(s.stats().hits == 0);
  CHECK(s.stats().misses == 0);
  CHECK(s.get("a", kT0));
  CHECK(s.get("a", kT0));
  CHECK_FALSE(s.get("zz", kT0));
  CHECK_FALSE(s.get("t", kT0 + 5));  // expired: a miss
  const StoreStats st = s.stats();
  CHECK(st.hits == 2);
  CHECK(st.misses == 2);
  CHECK(st.expired == 1);
}

}  // TEST_SUITE("cache store")


TEST_CASE("with second-chance recency a read entry survives one eviction round and the next oldest goes") {
  using fourinone::cache::CacheStore;
  using fourinone::cache::SetMode;
  // Room for exactly three entries of key "kN" (2 bytes) and a 10-byte value.
  const std::uint64_t entry = 2 + 10 + fourinone::cache::kEntryOverhead;
  CacheStore store(3 * entry, CacheStore::Recency::second_chance);
  const std::string value(10, 'v');
  REQUIRE(store.set("k1", value, SetMode::set, 0, 0, 1).ok());
  REQUIRE(store.set("k2", value, SetMode::set, 0, 0, 1).ok());
  REQUIRE(store.set("k3", value, SetMode::set, 0, 0, 1).ok());
  REQUIRE(store.peek("k1", 1) != nullptr);  // marks k1, the oldest
  REQUIRE(store.set("k4", value, SetMode::set, 0, 0, 1).ok());
  CHECK(store.peek("k2", 1) == nullptr);  // k1 was spared, k2 went
  CHECK(store.stats().evictions == 1);
  // Oldest to newest now: k3, k1 (spared, unmarked), k4. Reading k3 spares it next time.
  REQUIRE(store.peek("k3", 1) != nullptr);
  REQUIRE(store.set("k5", value, SetMode::set, 0, 0, 1).ok());
  CHECK(store.stats().evictions == 2);
  CHECK(store.peek("k1", 1) == nullptr);  // k3 was spared; k1, unmarked since its move, went
  CHECK(store.peek("k3", 1) != nullptr);
  CHECK(store.peek("k4", 1) != nullptr);
  CHECK(store.peek("k5", 1) != nullptr);
}
