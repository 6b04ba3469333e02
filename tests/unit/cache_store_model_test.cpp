// CacheStore against a model: random operations (sets in every mode with right and wrong
// versions, removes, gets, TTLs, time passing) go to the store and to a std::map model written
// here from the rules in cache_store.hpp, with and without memory pressure; every answer and,
// every 50 steps and at the end, the full content and the stats must agree. Fixed seeds.
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

#include "tests/unit/cache_store_test_util.hpp"

using fourinone::Errc;
using namespace cache_store_test;

// --- the model -------------------------------------------------------------------------------

namespace {

using cache_store_test::cs_show;  // the model's overload below joins these

// What the store should do, written from the header's rules as directly as possible: a
// std::map of entries, each with the tick of its last use; eviction picks the smallest tick.
class CsModel {
 public:
  struct Entry {
    StoredValue v;
    std::uint64_t used = 0;
  };
  struct Answer {
    Errc code = Errc::ok;
    StoredValue v;
  };

  explicit CsModel(std::uint64_t max_bytes) : max_bytes_(max_bytes) {}

  std::optional<StoredValue> get(const std::string& k, std::int64_t now) {
    Entry* e = live(k, now);
    if (e == nullptr) {
      ++misses_;
      return std::nullopt;
    }
    ++hits_;
    e->used = ++tick_;
    return e->v;
  }

  Answer set(const std::string& k, const std::string& value, SetMode mode, std::uint64_t expected,
             std::int64_t ttl, std::int64_t now) {
    if (cs_charge(k, value) > max_bytes_) return {Errc::too_large, {}};
    Entry* e = live(k, now);
    if (mode == SetMode::add && e != nullptr) return {Errc::exists, {}};
    if ((mode == SetMode::replace || mode == SetMode::cas) && e == nullptr) return {Errc::not_found, {}};
    if (mode == SetMode::cas && e->v.version != expected) return {Errc::bad_version, {}};
    StoredValue v{value, e != nullptr ? e->v.version + 1 : 1, ttl > 0 ? now + ttl : 0};
    if (e != nullptr) drop(k);
    put(k, v);
    return {Errc::ok, v};
  }

  Answer remove(const std::string& k, std::uint64_t expected, std::int64_t now) {
    Entry* e = live(k, now);
    if (e == nullptr) return {Errc::not_found, {}};
    if (expected != 0 && e->v.version != expected) return {Errc::bad_version, {}};
    StoredValue v = e->v;
    drop(k);
    return {Errc::ok, v};
  }

  Errc apply_replica(const std::string& k, const StoredValue& v) {
    if (cs_charge(k, v.value) > max_bytes_) return Errc::too_large;
    if (entries_.count(k) != 0) drop(k);
    put(k, v);
    return Errc::ok;
  }

  void apply_replica_remove(const std::string& k) {
    if (entries_.count(k) != 0) drop(k);
  }

  std::size_t remove_if(const std::function<bool(const std::string&)>& f) {
    std::vector<std::string> gone;
    for (const auto& [k, e] : entries_) {
      if (f(k)) gone.push_back(k);
    }
    for (const std::string& k : gone) drop(k);
    return gone.size();
  }

  // A sweep may drop any expired entries; the model follows the store's choice after checking
  // that it dropped only expired ones, as many as it said, and no more than its budget.
  void follow_sweep(const CacheStore& s, std::size_t dropped, std::size_t budget, std::int64_t now) {
    CHECK(dropped <= budget);
    const std::set<std::string> kept = cs_keys(s);
    std::vector<std::string> gone;
    for (const auto& [k, e] : entries_) {
      if (kept.count(k) == 0) gone.push_back(k);
    }
    REQUIRE(gone.size() == dropped);
    for (const std::string& k : gone) {
      CAPTURE(k);
      REQUIRE(expired(entries_.at(k).v, now));
      drop(k);
      ++expired_;
    }
  }

  std::map<std::string, std::string> contents() const {
    std::map<std::string, std::string> out;
    for (const auto& [k, e] : entries_) out.emplace(k, cs_show(e.v));
    return out;
  }

  StoreStats stats() const {
    StoreStats st;
    st.keys = entries_.size();
    st.bytes = bytes_;
    st.max_bytes = max_bytes_;
    st.evictions = evictions_;
    st.expired = expired_;
    st.hits = hits_;
    st.misses = misses_;
    return st;
  }

  // The live entry at k, if any (for choosing a right cas version).
  const Entry* peek(const std::string& k, std::int64_t now) const {
    auto it = entries_.find(k);
    return it == entries_.end() || expired(it->second.v, now) ? nullptr : &it->second;
  }

 private:
  static bool expired(const StoredValue& v, std::int64_t now) { return v.expires_ms != 0 && now >= v.expires_ms; }

  Entry* live(const std::string& k, std::int64_t now) {
    auto it = entries_.find(k);
    if (it == entries_.end()) return nullptr;
    if (expired(it->second.v, now)) {
      drop(k);
      ++expired_;
      return nullptr;
    }
    return &it->second;
  }

  void drop(const std::string& k) {
    bytes_ -= cs_charge(k, entries_.at(k).v.value);
    entries_.erase(k);
  }

  void put(const std::string& k, const StoredValue& v) {
    const std::uint64_t need = cs_charge(k, v.value);
    while (bytes_ + need > max_bytes_) {
      auto victim = std::min_element(entries_.begin(), entries_.end(),
                                     [](const auto& a, const auto& b) { return a.second.used < b.second.used; });
      REQUIRE(victim != entries_.end());
      drop(std::string(victim->first));
      ++evictions_;
    }
    entries_[k] = Entry{v, ++tick_};
    bytes_ += need;
  }

  std::uint64_t max_bytes_;
  std::map<std::string, Entry> entries_;
  std::uint64_t tick_ = 0;
  std::uint64_t bytes_ = 0, evictions_ = 0, expired_ = 0, hits_ = 0, misses_ = 0;
};

std::string cs_show(const CsModel::Answer& a) { return a.code == Errc::ok ? cs_show(a.v) : errc_name(a.code); }

// Runs `steps` random operations on a store and the model from one seed, checking every answer
// and, every 50 steps and at the end, the full content and the stats.
void cs_run_model(std::uint32_t seed, std::uint64_t max_bytes, int steps, std::size_t max_value) {
  std::mt19937 rng(seed);
  auto pick = [&](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
  CacheStore store(max_bytes);
  CsModel model(max_bytes);
  std::int64_t now = kT0;

  const std::vector<std::string> keys{"a", "b", "c", "d", "e", "f", "g", "h", "ii", "jjj",
                                      "a long key over fifteen bytes", std::string("n\0l", 3)};
  auto random_key = [&] { return keys[pick(keys.size())]; };
  auto random_value = [&] {
    // Mostly short (in-place strings), some long, now and then too large for the store.
    const std::uint64_t r = pick(100);
    const bool can_refuse = max_bytes < (1u << 20);  // no gigabyte strings for the roomy store
    const std::size_t len = r < 60 ? pick(16) : (r < 97 || !can_refuse) ? pick(max_value + 1) : max_bytes + pick(10);
    return std::string(len, static_cast<char>('a' + pick(26)));
  };
  auto random_ttl = [&]() -> std::int64_t { return pick(2) == 0 ? 0 : static_cast<std::int64_t>(1 + pick(100)); };
  auto random_version = [&](const std::string& k) -> std::uint64_t {
    const CsModel::Entry* e = model.peek(k, now);
    const std::uint64_t r = pick(4);
    if (e != nullptr && r < 2) return e->v.version;  // mostly right when there is one
    return r == 3 ? 0 : 1 + pick(6);
  };

  std::string what;
  INFO("seed ", seed, " max_bytes ", max_bytes, ": ", what);
  auto compare_all = [&] {
    REQUIRE(cs_contents(store) == model.contents());
    REQUIRE(cs_show(store.stats()) == cs_show(model.stats()));
    REQUIRE(store.size() == model.stats().keys);
  };

  for (int step = 0; step < steps; ++step) {
    what = "step " + std::to_string(step) + " now " + std::to_string(now) + ": ";
    const std::uint64_t op = pick(100);
    if (op < 25) {
      const std::string k = random_key();
      what += "get " + k;
      REQUIRE(cs_show(store.get(k, now)) == cs_show(model.get(k, now)));
    } else if (op < 60) {
      const std::string k = random_key(), v = random_value();
      const SetMode mode = static_cast<SetMode>(pick(4));
      const std::uint64_t expected = mode == SetMode::cas ? random_version(k) : pick(3);
      const std::int64_t ttl = random_ttl();
      what += "set mode " + std::to_string(static_cast<int>(mode)) + " " + k + " len " + std::to_string(v.size()) +
              " expected " + std::to_string(expected) + " ttl " + std::to_string(ttl);
      REQUIRE(cs_show(store.set(k, v, mode, expected, ttl, now)) == cs_show(model.set(k, v, mode, expected, ttl, now)));
    } else if (op < 72) {
      const std::string k = random_key();
      const std::uint64_t expected = random_version(k);
      what += "remove " + k + " expected " + std::to_string(expected);
      REQUIRE(cs_show(store.remove(k, expected, now)) == cs_show(model.remove(k, expected, now)));
    } else if (op < 84) {
      const std::int64_t dt = static_cast<std::int64_t>(pick(4) == 0 ? pick(150) : pick(10));
      what += "advance " + std::to_string(dt);
      now += dt;
    } else if (op < 90) {
      const std::size_t budget = pick(6);
      what += "sweep budget " + std::to_string(budget);
      const std::size_t dropped = store.sweep_expired(now, budget);
      model.follow_sweep(store, dropped, budget, now);
    } else if (op < 95) {
      const std::string k = random_key();
      StoredValue v{random_value(), 1 + pick(50), pick(2) == 0 ? 0 : now - 20 + static_cast<std::int64_t>(pick(120))};
      what += "apply_replica " + k + " " + cs_show(v);
      REQUIRE(store.apply_replica(k, v).code() == model.apply_replica(k, v));
    } else if (op < 98) {
      const std::string k = random_key();
      what += "apply_replica_remove " + k;
      store.apply_replica_remove(k);
      model.apply_replica_remove(k);
    } else if (op < 99) {
      const char c = static_cast<char>('a' + pick(10));
      what += std::string("remove_if contains ") + c;
      auto drop = [c](const std::string& k) { return k.find(c) != std::string::npos; };
      REQUIRE(store.remove_if(drop) == model.remove_if(drop));
    } else {
      what += "compare";
    }
    if (step % 50 == 0) compare_all();
  }
  what = "end";
  compare_all();
}

}  // namespace

TEST_SUITE("cache store") {

TEST_CASE("random operations agree with the model when memory is plentiful") {
  for (std::uint32_t seed : {1u, 2u, 3u}) cs_run_model(seed, kBig, 5000, 40);
}

TEST_CASE("random operations agree with the model, LRU eviction included, when memory is tight") {
  // Room for about five entries, so most writes evict.
  for (std::uint32_t seed : {11u, 12u, 13u}) cs_run_model(seed, 5 * (kEntryOverhead + 20), 5000, 60);
}

TEST_CASE("the model test notices a store that differs from the model") {
  // The harness itself: a store that missed one write must be told apart from the model.
  CacheStore store(kBig);
  CsModel model(kBig);
  const std::string stored = cs_show(store.set("k", "v", SetMode::set, 0, 0, kT0));
  REQUIRE(stored == cs_show(model.set("k", "v", SetMode::set, 0, 0, kT0)));
  (void)model.set("k", "w", SetMode::set, 0, 0, kT0);
  CHECK(cs_contents(store) != model.contents());
  CHECK(cs_show(store.get("k", kT0)) != cs_show(model.get("k", kT0)));
}

}  // TEST_SUITE("cache store")
