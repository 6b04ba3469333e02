// The park's data model through the public client API against a real server process.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/support/park_fixture.hpp"

using namespace std::chrono_literals;
using fourinone::CreateOptions;
using fourinone::Errc;
using fourinone::Policy;
using fourinone::test::RunningPark;
using fourinone::test::wait_until;

TEST_CASE("created nodes can be read, updated with a version check and removed") {
  RunningPark park;
  auto p = park.connect();

  auto created = p->create("zhejiang", "hangzhou", "xihu");
  REQUIRE(created.ok());
  CHECK(created->version == 1);
  CHECK(created->create_revision > 0);
  CHECK(created->create_revision == created->mod_revision);

  CHECK(p->create("zhejiang", "hangzhou", "other").status().code() == Errc::exists);
  CHECK(p->get("zhejiang", "hangzhou")->value == "xihu");

  auto updated = p->update("zhejiang", "hangzhou", "yuhang", 1);
  REQUIRE(updated.ok());
  CHECK(updated->version == 2);
  CHECK(updated->mod_revision > created->mod_revision);

  // Compare-and-set with a stale version fails and changes nothing.
  CHECK(p->update("zhejiang", "hangzhou", "late", 1).status().code() == Errc::bad_version);
  CHECK(p->get("zhejiang", "hangzhou")->value == "yuhang");

  // Writing the same bytes is no change: same version, same revision.
  auto same = p->update("zhejiang", "hangzhou", "yuhang");
  REQUIRE(same.ok());
  CHECK(same->version == 2);
  CHECK(same->mod_revision == updated->mod_revision);

  CHECK(p->remove("zhejiang", "hangzhou", 1).status().code() == Errc::bad_version);
  auto removed = p->remove("zhejiang", "hangzhou", 2);
  REQUIRE(removed.ok());
  CHECK(removed->value == "yuhang");
  CHECK(p->get("zhejiang", "hangzhou").status().code() == Errc::not_found);
  // The last node took its domain with it.
  CHECK(p->list("zhejiang").status().code() == Errc::not_found);
  CHECK(p->update("zhejiang", "hangzhou", "x").status().code() == Errc::not_found);
}

TEST_CASE("a domain lists its nodes in creation order and sequential names increase") {
  RunningPark park;
  auto p = park.connect();
  REQUIRE(p->create("d", "zeta", "1").ok());
  REQUIRE(p->create("d", "alpha", "2").ok());
  auto s1 = p->create_sequential("d", "3");
  auto s2 = p->create_sequential("d", "4");
  REQUIRE(s1.ok());
  REQUIRE(s2.ok());
  CHECK(s1->name < s2->name);
  REQUIRE(p->update("d", "zeta", "updated").ok());  // an update does not move a node
  auto nodes = p->list("d");
  REQUIRE(nodes.ok());
  REQUIRE(nodes->size() == 4);
  CHECK((*nodes)[0].name == "zeta");
  CHECK((*nodes)[1].name == "alpha");
  CHECK((*nodes)[2].name == s1->name);
  CHECK((*nodes)[3].name == s2->name);

  // Removing and re-creating puts a node at the end.
  REQUIRE(p->remove("d", "zeta").ok());
  REQUIRE(p->create("d", "zeta", "again").ok());
  nodes = p->list("d");
  REQUIRE(nodes.ok());
  CHECK(nodes->back().name == "zeta");

  auto removed = p->remove_domain("d");
  REQUIRE(removed.ok());
  CHECK(removed->size() == 4);
  CHECK(p->list("d").status().code() == Errc::not_found);
}

TEST_CASE("a transaction applies all of its ops or none") {
  RunningPark park;
  auto p = park.connect();
  REQUIRE(p->create("acct", "a", "100").ok());
  REQUIRE(p->create("acct", "b", "0").ok());

  fourinone::Txn bad;
  bad.update("acct", "a", "50", 1).update("acct", "b", "50", 7);  // b is at version 1
  auto failed = p->commit(bad);
  CHECK(failed.status().code() == Errc::bad_version);
  CHECK(p->get("acct", "a")->value == "100");
  CHECK(p->get("acct", "b")->value == "0");

  fourinone::Txn good;
  good.check("acct", "c", 0).update("acct", "a", "50", 1).update("acct", "b", "50", 1).create("acct", "c", "log");
  auto ok = p->commit(good);
  REQUIRE(ok.ok());
  CHECK(ok->nodes.size() == 4);
  CHECK(p->get("acct", "a")->value == "50");
  CHECK(p->get("acct", "b")->value == "50");
  CHECK(p->get("acct", "c")->value == "log");
}

TEST_CASE("bad names and oversize values are refused with clear errors and nothing changes") {
  RunningPark park(RunningPark::Settings{{"MAXVALUE", "1K"}});
  auto p = park.connect();
  CHECK(p->create("", "n", "v").status().code() == Errc::bad_request);
  CHECK(p->create("d", "a/b", "v").status().code() == Errc::bad_request);
  CHECK(p->create("d", std::string("bad\x01name"), "v").status().code() == Errc::bad_request);
  CHECK(p->create("d", std::string(300, 'n'), "v").status().code() == Errc::bad_request);
  auto big = p->create("d", "big", std::string(2048, 'x'));
  CHECK(big.status().code() == Errc::too_large);
  CHECK(p->list("d").status().code() == Errc::not_found);
  // The server still serves.
  CHECK(p->create("d", "small", std::string(1024, 'x')).ok());
}

TEST_CASE("the default value limit is at least 16 MiB") {
  RunningPark park;
  auto p = park.connect();
  std::string value(16u << 20, 'z');
  auto created = p->create("big", "value", value);
  REQUIRE_MESSAGE(created.ok(), created.status().to_string());
  auto read = p->get("big", "value");
  REQUIRE(read.ok());
  CHECK(read->value == value);
}

TEST_CASE("a policy limits what other clients may do while the creator may do anything") {
  RunningPark park;
  auto owner = park.connect();
  auto other = park.connect();
  CreateOptions read_only{Policy::read};
  CreateOptions read_write{Policy::read_write};
  REQUIRE(owner->create("cfg", "ro", "1", read_only).ok());
  REQUIRE(owner->create("cfg", "rw", "1", read_write).ok());
  REQUIRE(owner->create("cfg", "all", "1").ok());

  CHECK(other->get("cfg", "ro")->value == "1");
  CHECK(other->update("cfg", "ro", "2").status().code() == Errc::no_permission);
  CHECK(other->remove("cfg", "ro").status().code() == Errc::no_permission);
  CHECK(other->update("cfg", "rw", "2").ok());
  CHECK(other->remove("cfg", "rw").status().code() == Errc::no_permission);
  CHECK(other->remove("cfg", "all").ok());
  // Denied calls changed nothing.
  CHECK(owner->get("cfg", "ro")->value == "1");
  CHECK(owner->get("cfg", "ro")->version == 1);
  // Another client may not remove the domain while it holds nodes it may not delete...
  CHECK(other->remove_domain("cfg").status().code() == Errc::no_permission);
  CHECK(other->set_deletable("cfg").code() == Errc::no_permission);
  // ...until its creator makes it deletable.
  CHECK(owner->update("cfg", "ro", "3").ok());
  REQUIRE(owner->set_deletable("cfg").ok());
  CHECK(other->remove_domain("cfg").ok());
}

TEST_CASE("a watch streams every change in revision order, from a past revision too") {
  RunningPark park;
  auto writer = park.connect();
  auto watcher = park.connect();
  auto first = writer->create("w", "a", "1");
  REQUIRE(first.ok());

  std::mutex mutex;
  std::condition_variable cv;
  std::vector<fourinone::WatchEvent> events;
  auto watch = watcher->watch("w", std::nullopt, first->create_revision, [&](const fourinone::WatchEvent& e) {
    std::lock_guard lock(mutex);
    events.push_back(e);
    cv.notify_all();
  });
  REQUIRE(watch.ok());
  REQUIRE(writer->update("w", "a", "2").ok());
  REQUIRE(writer->create("w", "b", "x").ok());
  REQUIRE(writer->remove("w", "a").ok());
  REQUIRE(writer->create("other", "ignored", "x").ok());
  std::unique_lock lock(mutex);
  REQUIRE(cv.wait_for(lock, 5s, [&] { return events.size() >= 4; }));
  CHECK(events[0].type == fourinone::WatchEvent::Type::created);
  CHECK(events[0].node.value == "1");
  CHECK(events[1].type == fourinone::WatchEvent::Type::updated);
  CHECK(events[1].node.value == "2");
  CHECK(events[2].type == fourinone::WatchEvent::Type::created);
  CHECK(events[2].node.name == "b");
  CHECK(events[3].type == fourinone::WatchEvent::Type::deleted);
  CHECK(events[3].node.name == "a");
  for (std::size_t i = 1; i < events.size(); ++i) CHECK(events[i].revision > events[i - 1].revision);
  lock.unlock();
  std::this_thread::sleep_for(200ms);
  std::lock_guard again(mutex);
  CHECK(events.size() == 4);  // nothing from the other domain
}

TEST_CASE("get_latest answers a newer version at once, waits for a change, or answers nothing") {
  RunningPark park;
  auto p = park.connect();
  REQUIRE(p->create("cfg", "k", "v1").ok());
  auto now = p->get_latest("cfg", "k", 0);
  REQUIRE(now.ok());
  REQUIRE(now->has_value());
  CHECK(now.value()->version == 1);
  auto nothing = p->get_latest("cfg", "k", 1);
  REQUIRE(nothing.ok());
  CHECK(!nothing->has_value());

  auto started = std::chrono::steady_clock::now();
  auto timed_out = p->get_latest("cfg", "k", 1, 300ms);
  REQUIRE(timed_out.ok());
  CHECK(!timed_out->has_value());
  CHECK(std::chrono::steady_clock::now() - started >= 250ms);

  auto writer = park.connect();
  std::thread t([&] {
    std::this_thread::sleep_for(200ms);
    (void)writer->update("cfg", "k", "v2");
  });
  auto waited = p->get_latest("cfg", "k", 1, 10s);
  t.join();
  REQUIRE(waited.ok());
  REQUIRE(waited->has_value());
  CHECK(waited.value()->value == "v2");

  auto domain = p->get_latest_domain("cfg", 0);
  REQUIRE(domain.ok());
  REQUIRE(domain->has_value());
  auto since = domain.value()->revision;
  CHECK(!p->get_latest_domain("cfg", since)->has_value());
  REQUIRE(writer->create("cfg", "k2", "x").ok());
  auto changed = p->get_latest_domain("cfg", since, 2s);
  REQUIRE(changed.ok());
  REQUIRE(changed->has_value());
  CHECK(changed.value()->nodes.size() == 2);
}

TEST_CASE("a listener sees each new version until it returns true") {
  RunningPark park;
  auto p = park.connect();
  auto writer = park.connect();
  REQUIRE(p->create("zhejiang", "hangzhou", "xihu").ok());
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::string> seen;
  auto listener = p->add_listener("zhejiang", "hangzhou", 0, [&](const fourinone::Node* n) {
    std::lock_guard lock(mutex);
    seen.push_back(n ? n->value : "<deleted>");
    cv.notify_all();
    return n && n->value == "stop";
  });
  REQUIRE(listener.ok());
  {
    std::unique_lock lock(mutex);
    REQUIRE(cv.wait_for(lock, 5s, [&] { return seen.size() == 1; }));
  }
  REQUIRE(writer->update("zhejiang", "hangzhou", "yuhang").ok());
  REQUIRE(writer->update("zhejiang", "hangzhou", "stop").ok());
  REQUIRE(writer->update("zhejiang", "hangzhou", "after").ok());
  std::this_thread::sleep_for(300ms);
  std::lock_guard lock(mutex);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0] == "xihu");
  CHECK(seen[1] == "yuhang");
  CHECK(seen[2] == "stop");
}

TEST_CASE("heartbeat nodes go when their session closes and TTL nodes when their time is up") {
  RunningPark park;
  auto observer = park.connect();
  {
    auto member = park.connect();
    CreateOptions hb;
    hb.heartbeat = true;
    auto node = member->create("group", "m1", "alive", hb);
    REQUIRE(node.ok());
    CHECK(node->heartbeat());
    CHECK(member->session_state() == fourinone::SessionState::connected);
    CHECK(observer->get("group", "m1").ok());
  }  // the client closes its session
  CHECK(wait_until([&] { return observer->get("group", "m1").status().code() == Errc::not_found; }, 2s));

  CreateOptions ttl;
  ttl.ttl = 500ms;
  REQUIRE(observer->create("tmp", "t", "v", ttl).ok());
  CHECK(observer->get("tmp", "t").ok());
  CHECK(wait_until([&] { return observer->get("tmp", "t").status().code() == Errc::not_found; }, 3s));
}

TEST_CASE("the clear task (CLEARPERIOD, EXPIRATION) deletes old plain nodes and keeps heartbeat nodes") {
  // Hours as fractions: expire after 1.8 s, look every 0.72 s.
  RunningPark park(RunningPark::Settings{{"EXPIRATION", "0.0005"}, {"CLEARPERIOD", "0.0002"}});
  auto p = park.connect();
  auto created_at = std::chrono::steady_clock::now();
  REQUIRE(p->create("old", "plain", "v").ok());
  CreateOptions hb;
  hb.heartbeat = true;
  REQUIRE(p->create("old", "member", "alive", hb).ok());
  std::this_thread::sleep_for(1s);
  CHECK(p->get("old", "plain").ok());  // younger than EXPIRATION
  REQUIRE(wait_until([&] { return p->get("old", "plain").status().code() == Errc::not_found; }, 5s));
  CHECK(std::chrono::steady_clock::now() - created_at >= 1800ms);
  CHECK(p->get("old", "member").ok());  // kept alive by its session, not by age
  REQUIRE(p->create("old", "fresh", "v").ok());
  std::this_thread::sleep_for(800ms);  // at least one more clear run
  CHECK(p->get("old", "fresh").ok());
}

TEST_CASE("the memory guard refuses new data with park_full while reads and deletes go on") {
  RunningPark park(RunningPark::Settings{{"MAXMEMORY", "64K"}, {"SAFEMEMORYPER", "0.5"}});
  auto p = park.connect();
  std::string value(8 * 1024, 'm');
  int created = 0;
  fourinone::Status last;
  for (int i = 0; i < 20; ++i) {
    auto r = p->create("mem", "n" + std::to_string(i), value);
    if (!r.ok()) {
      last = r.status();
      break;
    }
    ++created;
  }
  CHECK(last.code() == Errc::park_full);
  CHECK(created >= 2);
  CHECK(created < 8);
  CHECK(p->get("mem", "n0").ok());
  CHECK(p->list("mem")->size() == static_cast<std::size_t>(created));
  REQUIRE(p->remove("mem", "n0").ok());
  CHECK(p->create("mem", "again", value).ok());
}

TEST_CASE("async calls deliver their results on the callback thread") {
  RunningPark park;
  auto p = park.connect();
  std::mutex mutex;
  std::condition_variable cv;
  int done = 0;
  int failures = 0;
  for (int i = 0; i < 200; ++i) {
    p->async_create("async", "n" + std::to_string(i), "v", {}, [&](fourinone::Result<fourinone::Node> r) {
      std::lock_guard lock(mutex);
      ++done;
      if (!r.ok()) ++failures;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mutex);
  REQUIRE(cv.wait_for(lock, 10s, [&] { return done == 200; }));
  CHECK(failures == 0);
  lock.unlock();
  CHECK(p->list("async")->size() == 200);
}
