// CacheDemo: the original's small and large cache, ported.
//
//   cache_demo put --config F   CachePutDemo: 100 x add("key", "value"+i) through the facade;
//                               the 100 keys are kept as one list in the park (cache/keyArray),
//                               the "small cache"
//   cache_demo get --config F   CacheGetDemo: reads the list back from the park and fetches
//                               every value by (key, "key"); checks each one
//   cache_demo tour --config F  the Cache API: set/get, add, compare-and-set, TTL,
//                               multi_set/multi_get, get_or_load, stats
//
// The cache servers come from the CACHEGROUP rows of F (`fourinone up` starts them).
#include <fourinone/cache.hpp>
#include <fourinone/park.hpp>

#include <cereal/types/vector.hpp>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

int fail(const fourinone::Status& s) {
  std::cerr << "cache_demo: " << s.to_string() << "\n";
  return 1;
}

int put(fourinone::Cache& cache, fourinone::Park& park, std::uint32_t try_keys) {
  fourinone::CacheFacade facade(cache, try_keys);
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) {
    auto key = facade.add("key", "value" + std::to_string(i));
    if (!key.ok()) return fail(key.status());
    keys.push_back(key.value());
  }
  // The small cache is the park itself: the key list is one node.
  auto stored = park.create("cache", "keyArray", keys);
  if (!stored.ok() && stored.status().code() == fourinone::Errc::exists) stored = park.update("cache", "keyArray", keys);
  if (!stored.ok()) return fail(stored.status());
  std::cout << "added 100 values under keys like " << keys.front() << " (on "
            << cache.group_of(keys.front()) << "); key list in the park at cache/keyArray\n";
  return 0;
}

int get(fourinone::Cache& cache, fourinone::Park& park) {
  auto node = park.get("cache", "keyArray");
  if (!node.ok()) return fail(node.status());
  auto keys = node->as<std::vector<std::string>>();
  if (!keys.ok()) return fail(keys.status());
  fourinone::CacheFacade facade(cache);
  std::map<std::string, int> per_group;
  for (std::size_t i = 0; i < keys->size(); ++i) {
    auto value = facade.get((*keys)[i], "key");
    if (!value.ok()) return fail(value.status());
    if (value.value() != "value" + std::to_string(i)) {
      std::cerr << "cache_demo: key " << (*keys)[i] << " holds '" << value.value() << "'\n";
      return 1;
    }
    ++per_group[cache.group_of((*keys)[i])];
  }
  std::cout << "read back all " << keys->size() << " values:";
  for (const auto& [group, n] : per_group) std::cout << " " << n << " on " << group;
  std::cout << "\n";
  return 0;
}

int tour(fourinone::Cache& cache) {
  using namespace std::chrono_literals;
  auto v = cache.set("city", "hangzhou");                       // Result<version>
  if (!v.ok()) return fail(v.status());
  auto item = cache.get("city");                                // value, version, ttl left
  std::cout << "city = " << item->value << " (version " << item->version << ")\n";
  auto again = cache.add("city", "suzhou");                     // only if absent
  std::cout << "add over an existing key: " << again.status().to_string() << "\n";
  auto moved = cache.compare_and_set("city", "ningbo", item->version);  // only at that version
  std::cout << "compare-and-set at version " << item->version << ": " << (moved.ok() ? "ok" : moved.status().to_string()) << "\n";
  if (!cache.set("session:42", "alice", 200ms).ok()) return 1;  // a TTL
  std::this_thread::sleep_for(300ms);
  std::cout << "after its TTL: " << cache.get("session:42").status().to_string() << "\n";
  if (!cache.multi_set({{"a", "1"}, {"b", "2"}, {"c", "3"}}).ok()) return 1;
  auto many = cache.multi_get({"a", "b", "c", "d"});
  std::cout << "multi_get a b c d:";
  for (const auto& one : many.value()) std::cout << " " << (one ? one->value : "(miss)");
  std::cout << "\n";
  int loads = 0;
  auto report = cache.get_or_load("report", [&]() -> fourinone::Result<std::string> {
    ++loads;
    return std::string("computed once");
  });
  auto cached = cache.get_or_load("report", [&]() -> fourinone::Result<std::string> {
    ++loads;
    return std::string("computed twice?");
  });
  std::cout << "get_or_load twice: '" << cached->value << "', loader ran " << loads << " time(s)\n";
  (void)report;
  auto stats = cache.stats();
  if (!stats.ok()) return fail(stats.status());
  for (const auto& s : stats.value()) {
    std::cout << "server " << s.server << " group " << s.group << " " << s.role << ": " << s.keys << " keys, "
              << s.bytes << " bytes\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  std::string config_path = "config.xml";
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--config") config_path = argv[i + 1];
  }
  if (mode != "put" && mode != "get" && mode != "tour") {
    std::cerr << "usage: cache_demo put|get|tour [--config F]\n";
    return 2;
  }
  auto config = fourinone::load_config(config_path);
  if (!config.ok()) return fail(config.status());
  auto options = fourinone::CacheOptions::from_config(config.value());
  if (!options.ok()) return fail(options.status());
  auto cache = fourinone::Cache::connect(options.value());
  if (!cache.ok()) return fail(cache.status());
  if (mode == "tour") return tour(*cache.value());
  auto park = fourinone::Park::connect(config.value());
  if (!park.ok()) return fail(park.status());
  return mode == "put" ? put(*cache.value(), *park.value(), options->try_keys) : get(*cache.value(), *park.value());
}
