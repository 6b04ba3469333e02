// The distributed cache with real processes: a park server and `fourinone cache` groups on
// loopback. Operations through the library, replication and a primary's kill -9 with no
// acknowledged write lost, scale-out with a client holding the old layout, the memory bound,
// bad input, the facade and the CLI.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cache/protocol/messages.hpp"
#include "core/asio.hpp"
#include "core/auth.hpp"
#include "core/frame.hpp"
#include "core/wire_archive.hpp"
#include "tests/support/cache_cluster.hpp"

using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::tcp;
using fourinone::Cache;
using fourinone::CacheFacade;
using fourinone::Errc;
using fourinone::test::CacheCluster;
using fourinone::test::run_cli;
using fourinone::test::wait_until;
namespace proto = fourinone::cache::proto;
namespace core = fourinone::core;

namespace {

// A blocking connection speaking the cache's frames by hand, for what the library would
// never send.
struct RawCacheConnection {
  asio::io_context io;
  tcp::socket socket{io};

  explicit RawCacheConnection(const std::string& address) {
    auto colon = address.rfind(':');
    socket.connect(tcp::endpoint(asio::ip::make_address(address.substr(0, colon)),
                                 static_cast<unsigned short>(std::stoi(address.substr(colon + 1)))));
  }
  void send(const std::string& bytes) { asio::write(socket, asio::buffer(bytes)); }
  void hello() {
    send(core::make_frame(core::FrameType::hello, 0, core::encode(core::HelloRequest{7, "", "nonce"})));
    auto [header, body] = read_frame();
    REQUIRE(header.type == core::FrameType::hello_reply);
  }
  std::pair<core::FrameHeader, std::string> read_frame() {
    char head[core::kFrameHeaderSize];
    boost::system::error_code ec;
    asio::read(socket, asio::buffer(head), ec);
    if (ec) return {core::FrameHeader{0, 0, core::FrameType::error, 0, 0}, ""};
    auto header = core::decode_header(head);
    std::string body(header.body_length, '\0');
    asio::read(socket, asio::buffer(body), ec);
    return {header, body};
  }
  proto::Response call(const proto::Request& request) {
    send(core::make_frame(core::FrameType::request, 1, core::encode(request)));
    auto [header, body] = read_frame();
    REQUIRE(header.type == core::FrameType::response);
    proto::Response response;
    REQUIRE(core::decode(body, response, "response").ok());
    return response;
  }
};

std::string primary_address(CacheCluster& cluster, std::size_t g, std::size_t backups) {
  auto primary = cluster.wait_for_primary(g, backups);
  INFO("last error: ", cluster.last_error());
  REQUIRE(primary.has_value());
  return cluster.address(g, *primary);
}

// Starts every server, waits until each group has a primary with all its backups in sync,
// and connects a client.
std::unique_ptr<Cache> serving_cache(CacheCluster& cluster) {
  REQUIRE(cluster.start_all());
  for (std::size_t g = 0; g < cluster.group_count(); ++g) primary_address(cluster, g, cluster.group_size(g) - 1);
  auto cache = cluster.connect();
  REQUIRE(cache);
  return cache;
}

}  // namespace

TEST_CASE("a cache group answers get, set, add, compare-and-set, remove, multi ops and TTLs") {
  CacheCluster cluster({2});
  auto cache = serving_cache(cluster);

  auto v1 = cache->set("user:1", "alice");
  REQUIRE_MESSAGE(v1.ok(), v1.status().to_string());
  CHECK(v1.value() == 1);
  auto got = cache->get("user:1");
  REQUIRE(got.ok());
  CHECK(got->value == "alice");
  CHECK(got->version == 1);
  CHECK(got->ttl_ms == 0);

  CHECK(cache->add("user:1", "bob").status().code() == Errc::exists);
  CHECK(cache->get("user:1")->value == "alice");
  CHECK(cache->compare_and_set("user:1", "carol", 7).status().code() == Errc::bad_version);
  auto v2 = cache->compare_and_set("user:1", "carol", 1);
  REQUIRE(v2.ok());
  CHECK(v2.value() == 2);
  CHECK(cache->compare_and_set("nobody", "x", 1).status().code() == Errc::not_found);
  CHECK(cache->add("user:2", "dave").ok());

  CHECK(cache->remove("user:1", 1).status().code() == Errc::bad_version);
  auto removed = cache->remove("user:1");
  REQUIRE(removed.ok());
  CHECK(removed->value == "carol");
  CHECK(cache->get("user:1").status().code() == Errc::not_found);
  CHECK(cache->remove("user:1").status().code() == Errc::not_found);

  std::vector<std::pair<std::string, std::string>> pairs;
  std::vector<std::string> keys;
  for (int i = 0; i < 50; ++i) {
    pairs.emplace_back("m" + std::to_string(i), "value" + std::to_string(i));
    keys.push_back("m" + std::to_string(i));
  }
  keys.push_back("m-missing");
  auto versions = cache->multi_set(pairs);
  REQUIRE_MESSAGE(versions.ok(), versions.status().to_string());
  CHECK(versions->size() == 50);
  auto many = cache->multi_get(keys);
  REQUIRE(many.ok());
  REQUIRE(many->size() == 51);
  for (int i = 0; i < 50; ++i) {
    REQUIRE((*many)[i].has_value());
    CHECK((*many)[i]->value == "value" + std::to_string(i));
  }
  CHECK_FALSE((*many)[50].has_value());

  REQUIRE(cache->set("short-lived", "x", 300ms).ok());
  auto fresh = cache->get("short-lived");
  REQUIRE(fresh.ok());
  CHECK(fresh->ttl_ms > 0);
  CHECK(fresh->ttl_ms <= 300);
  CHECK(wait_until([&] { return cache->get("short-lived").status().code() == Errc::not_found; }, 3s));
  CHECK(cache->get("user:2")->value == "dave");  // no TTL: stays
}

TEST_CASE("get_or_load runs the loader once for many threads missing the same key") {
  CacheCluster cluster({1});
  auto cache = serving_cache(cluster);
  std::atomic<int> loads{0};
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::set<std::string> answers;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      auto item = cache->get_or_load("report:2026", [&]() -> fourinone::Result<std::string> {
        ++loads;
        std::this_thread::sleep_for(200ms);  // a slow database
        return std::string("expensive");
      });
      std::lock_guard lock(mutex);
      answers.insert(item.ok() ? item->value : item.status().to_string());
    });
  }
  for (auto& t : threads) t.join();
  CHECK(loads.load() == 1);
  CHECK(answers == std::set<std::string>{"expensive"});
  CHECK(cache->get("report:2026")->value == "expensive");
  // A loader error reaches the caller and stores nothing.
  auto failed = cache->get_or_load("broken", [] { return fourinone::Result<std::string>(fourinone::Status(Errc::unavailable, "db down")); });
  CHECK(failed.status().code() == Errc::unavailable);
  CHECK(cache->get("broken").status().code() == Errc::not_found);
}

namespace {

// Writers on unique keys, a kill -9 of the primary, more writes on the backup that took over,
// then every acknowledged write read back; then the killed server rejoins with a full copy.
// Four writers on unique keys, recording every acknowledged write.
class Writers {
 public:
  explicit Writers(Cache& cache) {
    for (int w = 0; w < 4; ++w) {
      threads_.emplace_back([this, &cache, w] {
        for (int i = 0; !stop_; ++i) {
          std::string key = "w" + std::to_string(w) + ":" + std::to_string(round_) + ":" + std::to_string(i);
          std::string value = "value-" + key;
          if (cache.set(key, value).ok()) {
            std::lock_guard lock(mutex_);
            acknowledged_[key] = value;
          } else {
            ++failures_;  // unknown outcome: allowed, but it must not be counted as stored
          }
        }
      });
    }
  }
  ~Writers() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return acknowledged_.size();
  }
  // Every acknowledged write read back: how many are missing or different.
  std::size_t lost(Cache& cache) {
    std::size_t lost = 0;
    for (const auto& [key, value] : acknowledged_) {
      auto got = cache.get(key);
      if (!got.ok() || got->value != value) ++lost;
    }
    return lost;
  }
  int failures() const { return failures_.load(); }

 private:
  static inline std::atomic<int> next_round_{0};
  const int round_ = next_round_++;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::map<std::string, std::string> acknowledged_;
  std::atomic<int> failures_{0};
  std::vector<std::thread> threads_;
};

// Writers on unique keys, a kill -9 of the primary, more writes on the backup that took over,
// then every acknowledged write read back. Then the killed server rejoins while writes go on
// (they are answered without waiting for its copy), and the primary is killed again: the
// rejoined server takes over and must hold every write acknowledged during its copy too.
void check_primary_kill_loses_nothing(const std::string& threads) {
  INFO("CACHE/THREADS ", threads);
  CacheCluster cluster({2}, {{"THREADS", threads}});
  REQUIRE(cluster.start_all());
  auto primary = cluster.wait_for_primary(0, 1);
  REQUIRE(primary.has_value());
  auto cache = cluster.connect();
  REQUIRE(cache);

  {
    Writers writers(*cache);
    REQUIRE(wait_until([&] { return writers.count() > 300; }, 10s));
    cluster.kill(0, *primary);
    const std::size_t at_kill = writers.count();
    // Writes go on once the backup has taken over (within the 2 s session timeout, plus slack).
    CHECK(wait_until([&] { return writers.count() > at_kill + 300; }, 15s));
    writers.stop();
    auto next = cluster.wait_for_primary(0, 0);
    REQUIRE(next.has_value());
    CHECK(*next == 1 - *primary);
    INFO("acknowledged ", writers.count(), " writes, ", writers.failures(), " failed or unknown");
    CHECK(writers.lost(*cache) == 0);
  }

  const std::size_t rejoined = *primary;
  Writers during_copy(*cache);
  REQUIRE(wait_until([&] { return during_copy.count() > 200; }, 10s));
  REQUIRE(cluster.start(0, rejoined));
  REQUIRE(cluster.wait_for_primary(0, 1).has_value());
  const std::size_t at_sync = during_copy.count();
  CHECK(wait_until([&] { return during_copy.count() > at_sync + 200; }, 10s));
  during_copy.stop();
  auto stats = cache->stats();
  REQUIRE(stats.ok());
  std::map<std::string, std::uint64_t> keys_by_role;
  for (const auto& s : stats.value()) keys_by_role[s.role] = s.keys;
  CHECK(keys_by_role["backup"] == keys_by_role["primary"]);

  cluster.kill(0, 1 - rejoined);
  auto last = cluster.wait_for_primary(0, 0);
  REQUIRE(last.has_value());
  CHECK(*last == rejoined);
  INFO("acknowledged during the copy ", during_copy.count());
  CHECK(during_copy.lost(*cache) == 0);
}

}  // namespace

TEST_CASE("a primary killed with kill -9 loses no acknowledged write: its backup takes over") {
  check_primary_kill_loses_nothing("1");
}

TEST_CASE("with two io threads per server a primary kill still loses no acknowledged write") {
  // Gets are served on a second io thread while writes and replication stay on the main one.
  check_primary_kill_loses_nothing("2");
}

TEST_CASE("a second group moves about half the keys and a client with the old layout never reads a stale value") {
  CacheCluster cluster({1});
  REQUIRE(cluster.start_all());
  const std::string first_primary = primary_address(cluster, 0, 0);
  auto old_client = cluster.connect();
  REQUIRE(old_client);
  CHECK(old_client->layout_version() == 1);
  for (int i = 0; i < 1000; ++i) REQUIRE(old_client->set("k" + std::to_string(i), "old" + std::to_string(i)).ok());

  std::size_t g = cluster.add_group(1);
  REQUIRE(cluster.start(g, 0));
  INFO("new group's log: ", cluster.log_of(g, 0));
  primary_address(cluster, g, 0);
  auto new_client = cluster.connect();
  REQUIRE(new_client);
  CHECK(new_client->layout_version() == 2);
  int moved = 0;
  for (int i = 0; i < 1000; ++i) moved += new_client->group_of("k" + std::to_string(i)) == cluster.group_name(g);
  CHECK(moved > 400);
  CHECK(moved < 600);

  // A request routed with layout version 1 is refused, never answered from the old owner.
  RawCacheConnection raw(first_primary);
  raw.hello();
  proto::Request old_get;
  old_get.op = static_cast<std::uint8_t>(proto::Op::get);
  old_get.layout_version = 1;
  old_get.item.key = "k1";
  auto refused = raw.call(old_get);
  CHECK(refused.code == static_cast<std::uint8_t>(Errc::stale_layout));
  CHECK(refused.layout_version == 2);

  // New values through the new client; the old client reads only those (or a miss).
  for (int i = 0; i < 1000; ++i) REQUIRE(new_client->set("k" + std::to_string(i), "new" + std::to_string(i)).ok());
  int stale = 0;
  for (int i = 0; i < 1000; ++i) {
    auto got = old_client->get("k" + std::to_string(i));
    if (!got.ok() || got->value != "new" + std::to_string(i)) ++stale;
  }
  CHECK(stale == 0);
  CHECK(old_client->layout_version() == 2);
}

TEST_CASE("past MAXMEMORY a cache server evicts the least recently used keys and counts them") {
  CacheCluster cluster({1}, {{"MAXMEMORY", "1M"}, {"MAXVALUE", "64K"}});
  auto cache = serving_cache(cluster);
  const std::string kilobyte(1000, 'x');
  REQUIRE(cache->set("hot", kilobyte).ok());
  for (int i = 0; i < 3000; ++i) {
    REQUIRE(cache->set("bulk" + std::to_string(i), kilobyte).ok());
    if (i % 100 == 0) REQUIRE(cache->get("hot").ok());  // kept recently used
  }
  auto stats = cache->stats();
  REQUIRE(stats.ok());
  REQUIRE(stats->size() == 1);
  CHECK(stats->front().evictions > 1000);
  CHECK(stats->front().bytes <= stats->front().max_bytes);
  CHECK(cache->get("bulk0").status().code() == Errc::not_found);
  CHECK(cache->get("bulk2999").ok());
  CHECK(cache->get("hot").ok());
  CHECK(cache->set("too-big", std::string(65 * 1024, 'y')).status().code() == Errc::too_large);

  auto cli = run_cli({"ctl", "--config", cluster.config_path(), "cache", "stat"});
  CHECK(cli.code == 0);
  CHECK(cli.out.find("evictions ") != std::string::npos);
}

TEST_CASE("bad input to the cache gets a clear error and loses nothing") {
  CacheCluster cluster({1});
  auto cache = serving_cache(cluster);
  const std::string primary = primary_address(cluster, 0, 0);
  REQUIRE(cache->set("keep", "me").ok());

  CHECK(cache->get("").status().code() == Errc::bad_request);
  CHECK(cache->set("has space", "v").status().code() == Errc::bad_request);
  CHECK(cache->set(std::string(251, 'k'), "v").status().code() == Errc::too_large);
  CHECK(cache->set("big", std::string((1u << 20) + 1, 'v')).status().code() == Errc::too_large);
  auto unknown_group = cache->get("@nosuchgroup:123");
  CHECK(unknown_group.status().code() == Errc::bad_request);
  CHECK(unknown_group.status().message().find("nosuchgroup") != std::string::npos);
  CHECK(cache->set("neg", "v", -5ms).status().code() == Errc::bad_request);

  {  // what the library never sends: the server checks too
    RawCacheConnection raw(primary);
    raw.hello();
    proto::Request big;
    big.op = static_cast<std::uint8_t>(proto::Op::set);
    big.layout_version = cache->layout_version();
    big.item.key = "raw-big";
    big.item.value.assign((1u << 20) + 1, 'v');
    CHECK(raw.call(big).item.code == static_cast<std::uint8_t>(Errc::too_large));
    proto::Request mode;
    mode.op = static_cast<std::uint8_t>(proto::Op::set);
    mode.layout_version = cache->layout_version();
    mode.item.key = "raw-mode";
    mode.item.mode = 9;
    CHECK(raw.call(mode).item.code == static_cast<std::uint8_t>(Errc::bad_request));
    // An unknown operation and a body that does not decode each close the connection.
    proto::Request unknown;
    unknown.op = 99;
    raw.send(core::make_frame(core::FrameType::request, 2, core::encode(unknown)));
    CHECK(raw.read_frame().first.type == core::FrameType::error);
  }
  {
    RawCacheConnection raw(primary);
    raw.hello();
    raw.send(core::make_frame(core::FrameType::request, 3, "\x01\x02garbage"));
    CHECK(raw.read_frame().first.type == core::FrameType::error);
  }
  {  // garbage instead of a hello
    RawCacheConnection raw(primary);
    raw.send(std::string(64, '\x7f'));
  }
  {  // a client that disconnects in the middle of a frame
    RawCacheConnection raw(primary);
    raw.hello();
    proto::Request half;
    half.op = static_cast<std::uint8_t>(proto::Op::set);
    half.item.key = "half";
    half.item.value = std::string(4000, 'h');
    std::string frame = core::make_frame(core::FrameType::request, 4, core::encode(half));
    raw.send(frame.substr(0, frame.size() / 2));
  }
  // The server is still up and nothing stored changed.
  auto kept = cache->get("keep");
  REQUIRE(kept.ok());
  CHECK(kept->value == "me");
  CHECK(cache->get("half").status().code() == Errc::not_found);
  CHECK(cache->get("raw-big").status().code() == Errc::not_found);
}

TEST_CASE("the facade adds keys pinned to a group that keep a map of names") {
  CacheCluster cluster({1, 1});
  auto cache = serving_cache(cluster);
  CacheFacade facade(*cache);
  std::set<std::string> groups_used;
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) {
    auto key = facade.add("key", "value" + std::to_string(i));
    REQUIRE_MESSAGE(key.ok(), key.status().to_string());
    CHECK(key->front() == '@');
    groups_used.insert(cache->group_of(key.value()));
    keys.push_back(key.value());
  }
  CHECK(groups_used.size() == 2);
  for (int i = 0; i < 40; ++i) CHECK(facade.get(keys[i], "key").value() == "value" + std::to_string(i));
  REQUIRE(facade.put(keys[0], "user", "alice").ok());
  auto map = facade.get(keys[0]);
  REQUIRE(map.ok());
  CHECK(map->size() == 2);
  CHECK(map->at("user") == "alice");
  CHECK(facade.remove(keys[0], "key").value() == "value0");
  CHECK(facade.get(keys[0], "key").status().code() == Errc::not_found);
  CHECK(facade.remove(keys[1]).value().at("key") == "value1");
  CHECK(facade.get(keys[1]).status().code() == Errc::not_found);
}

TEST_CASE("fourinone ctl cache sets, gets, removes and shows every server") {
  CacheCluster cluster({2});
  REQUIRE(cluster.start_all());
  primary_address(cluster, 0, 1);
  const std::string& config = cluster.config_path();
  auto set = run_cli({"ctl", "--config", config, "cache", "set", "greeting", "hello", "--ttl", "60"});
  CHECK(set.code == 0);
  CHECK(set.out == "1\n");
  CHECK(run_cli({"ctl", "--config", config, "cache", "get", "greeting"}).out == "hello\n");
  auto exists = run_cli({"ctl", "--config", config, "cache", "set", "greeting", "again", "--add"});
  CHECK(exists.code == 1);
  CHECK(exists.err.find("exists") != std::string::npos);
  auto wrong = run_cli({"ctl", "--config", config, "cache", "set", "greeting", "x", "--version", "5"});
  CHECK(wrong.code == 1);
  CHECK(wrong.err.find("bad_version") != std::string::npos);
  CHECK(run_cli({"ctl", "--config", config, "cache", "rm", "greeting"}).out == "hello\n");
  auto missing = run_cli({"ctl", "--config", config, "cache", "get", "greeting"});
  CHECK(missing.code == 1);
  CHECK(missing.err.find("not_found") != std::string::npos);
  auto stat = run_cli({"ctl", "--config", config, "cache", "stat"});
  CHECK(stat.code == 0);
  CHECK(stat.out.find(" primary ") != std::string::npos);
  CHECK(stat.out.find(" backup ") != std::string::npos);
  CHECK(run_cli({"ctl", "--config", config, "cache", "frobnicate"}).code == 2);
  CHECK(run_cli({"ctl", "--config", config, "cache", "get"}).code == 2);
}

TEST_CASE("a cache server not listed in any CACHEGROUP refuses to start, naming the config") {
  CacheCluster cluster({1});
  REQUIRE(cluster.start_park());
  auto r = run_cli({"cache", "--config", cluster.config_path(), "--server", "127.0.0.1:1"}, "", 20s);
  CHECK(r.code == 1);
  CHECK(r.err.find("no CACHEGROUP row lists 127.0.0.1:1") != std::string::npos);
}

TEST_CASE("a group of three elects exactly one new primary after each of two kills and keeps every write") {
  CacheCluster cluster({3});
  REQUIRE(cluster.start_all());
  // A client needs the layout the servers publish once they run: connect when there is one
  // (Cache::connect refuses with "no cache layout" before; seen on a loaded machine).
  REQUIRE(cluster.wait_for_primary(0, 2).has_value());
  auto cache = cluster.connect();
  REQUIRE(cache);
  std::map<std::string, std::string> written;
  auto write_some = [&](const std::string& prefix) {
    for (int i = 0; i < 200; ++i) {
      std::string key = prefix + std::to_string(i);
      auto r = cache->set(key, "v-" + key);
      REQUIRE_MESSAGE(r.ok(), r.status().to_string());
      written[key] = "v-" + key;
    }
  };
  // Exactly one primary and every live member in sync, with the same keys.
  auto one_primary = [&](std::size_t live) {
    std::size_t primaries = 0, epoch = 0;
    bool settled = wait_until(
        [&] {
          auto stats = cache->stats();
          if (!stats.ok()) return false;
          primaries = 0;
          std::size_t in_sync = 0, members = 0;
          for (const auto& s : stats.value()) {
            if (s.role == "unreachable") continue;
            ++members;
            if (s.role == "primary") {
              ++primaries;
              in_sync = s.backups_in_sync;
              epoch = s.epoch;
            }
          }
          return primaries == 1 && members == live && in_sync == live - 1;
        },
        15s);
    INFO("primaries ", primaries, " epoch ", epoch);
    CHECK(settled);
    return epoch;
  };
  write_some("a");
  const auto first_epoch = one_primary(3);
  for (int round = 0; round < 2; ++round) {
    auto primary = cluster.wait_for_primary(0, 0);
    REQUIRE(primary.has_value());
    cluster.kill(0, *primary);
    write_some(round == 0 ? "b" : "c");  // waits out the takeover: calls outlive it
    CHECK(one_primary(2 - round) > first_epoch);
  }
  for (const auto& [key, value] : written) {
    auto got = cache->get(key);
    REQUIRE_MESSAGE(got.ok(), (key + ": " + got.status().to_string()));
    CHECK(got->value == value);
  }
}

TEST_CASE("a whole group stopped and started again elects a primary, whichever server led before") {
  CacheCluster cluster({2});
  REQUIRE(cluster.start_all());
  auto first = cluster.wait_for_primary(0, 1);
  REQUIRE(first.has_value());
  // Make the second server of the list the primary of record: the preferred first one is not
  // what a restart may lean on.
  const std::size_t other = 1 - *first;
  cluster.kill(0, *first);
  REQUIRE(cluster.wait_for_primary(0, 0) == other);
  REQUIRE(cluster.start(0, *first));
  REQUIRE(cluster.wait_for_primary(0, 1) == other);
  // Everything stops cleanly; the park keeps the group record (primary `other`). Then all start
  // again as `fourinone up` does: the cache servers wait for the park and register together.
  CHECK(cluster.stop(0, 0) == 0);
  CHECK(cluster.stop(0, 1) == 0);
  CHECK(cluster.stop_park() == 0);
  std::vector<std::unique_ptr<fourinone::test::Process>> servers;
  for (std::size_t i = 0; i < 2; ++i) {  // spawned together, as `up` does
    servers.push_back(std::make_unique<fourinone::test::Process>(
        std::vector<std::string>{FOURINONE_BIN, "cache", "--config", cluster.config_path(), "--server",
                                 cluster.address(0, i)},
        cluster.dir().file("restarted-" + std::to_string(i))));
  }
  REQUIRE(cluster.start_park());
  auto again = cluster.wait_for_primary(0, 1, 20s);
  CHECK_MESSAGE(again.has_value(), cluster.last_error() << "\n" << servers[0]->err() << servers[1]->err());
  auto cache = cluster.connect();
  REQUIRE(cache);
  REQUIRE(cache->set("after", "restart").ok());
  CHECK(cache->get("after").value().value == "restart");
}

TEST_CASE("with USERS configured the cache servers require a login, and servers and clients log in from the environment") {
  const std::string users =
      fourinone::core::format_user_entry(fourinone::core::make_user_entry("alice", "wonderland", 1000));
  // The servers (children) and this client read the login from the environment.
  ::setenv("FOURINONE_USER", "alice", 1);
  ::setenv("FOURINONE_PASSWORD", "wonderland", 1);
  struct Unset {
    ~Unset() {
      ::unsetenv("FOURINONE_USER");
      ::unsetenv("FOURINONE_PASSWORD");
    }
  } unset;
  CacheCluster cluster({2}, {}, {{"USERS", users}});
  auto cache = serving_cache(cluster);  // the backup link logged in
  const std::string primary = primary_address(cluster, 0, 1);
  REQUIRE(cache->set("secret", "42").ok());
  CHECK(cache->get("secret")->value == "42");

  // A connection without a login gets nothing: its hello is refused and it is closed.
  RawCacheConnection raw(primary);
  raw.send(core::make_frame(core::FrameType::hello, 0, core::encode(core::HelloRequest{9, "", "nonce"})));
  CHECK(raw.read_frame().first.type == core::FrameType::error);
  proto::Request get;
  get.op = static_cast<std::uint8_t>(proto::Op::get);
  get.layout_version = cache->layout_version();
  get.item.key = "secret";
  boost::system::error_code ignored;
  asio::write(raw.socket, asio::buffer(core::make_frame(core::FrameType::request, 1, core::encode(get))), ignored);
  CHECK(raw.read_frame().first.type != core::FrameType::response);

  // A client with a wrong password does not get in either (the park refuses it first).
  auto options = cluster.options();
  options.park.password = "wrong";
  CHECK(Cache::connect(options).status().code() == Errc::unauthenticated);
}
