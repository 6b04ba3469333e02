// SlotIndex against std::map: random inserts, erases and lookups, with hashes forced into a
// few home buckets so runs collide, wrap around the end and shift back on erase.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <random>
#include <string>

#include "cache/store/slot_index.hpp"

namespace {

struct IndexedThing {
  std::string key;
  std::uint64_t hash = 0;
};
struct ThingKey {
  std::string_view operator()(const IndexedThing& t) const noexcept { return t.key; }
};

}  // namespace

TEST_CASE("the slot index finds exactly what a std::map holds through colliding inserts and erases") {
  for (std::uint64_t spread : {1u, 3u, 1000u}) {  // 1: every key has the same home bucket
    fourinone::cache::SlotIndex<IndexedThing, ThingKey> index;
    std::map<std::string, std::unique_ptr<IndexedThing>> model;
    std::mt19937_64 rng(7 + spread);
    for (int step = 0; step < 20000; ++step) {
      std::string key = "k" + std::to_string(rng() % 300);
      // Home buckets near the end of the table too, so runs wrap around.
      const std::uint64_t h = (fourinone::cache::SlotIndex<IndexedThing, ThingKey>::hash(key) % spread) + (~0ull - 8);
      auto it = model.find(key);
      if (rng() % 2 == 0) {
        if (it == model.end()) {
          auto thing = std::make_unique<IndexedThing>(IndexedThing{key, h});
          index.insert(thing.get(), h);
          model.emplace(key, std::move(thing));
        }
      } else if (it != model.end()) {
        index.erase(it->second.get(), h);
        model.erase(it);
      }
      if (step % 97 == 0) {
        REQUIRE(index.size() == model.size());
        for (int k = 0; k < 300; ++k) {
          std::string probe = "k" + std::to_string(k);
          const std::uint64_t ph = (fourinone::cache::SlotIndex<IndexedThing, ThingKey>::hash(probe) % spread) + (~0ull - 8);
          auto m = model.find(probe);
          IndexedThing* found = index.find(probe, ph);
          CHECK(found == (m == model.end() ? nullptr : m->second.get()));
        }
      }
    }
  }
}
