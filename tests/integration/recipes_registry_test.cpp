// ServiceRegistry (registry.hpp) against a real park, with a registrant process killed -9.
#include <doctest/doctest.h>

#include <future>

#include <csignal>
#include <mutex>
#include <vector>

#include "fourinone/registry.hpp"
#include "tests/support/park_fixture.hpp"

using namespace std::chrono_literals;
using fourinone::Instance;
using fourinone::ServiceRegistry;
using fourinone::test::Process;
using fourinone::test::RunningPark;
using fourinone::test::wait_until;

namespace {

std::vector<std::string> ids(const std::vector<Instance>& live) {
  std::vector<std::string> out;
  for (const auto& i : live) out.push_back(i.id);
  return out;
}

}  // namespace

TEST_CASE("registered instances are listed with their metadata and go on deregister") {
  RunningPark park;
  auto p = park.connect();
  ServiceRegistry registry(*p);
  CHECK(registry.instances("orders")->empty());
  REQUIRE(registry.register_instance("orders", "i2", "10.0.0.2:20880", {{"zone", "b"}}).ok());
  REQUIRE(registry.register_instance("orders", "i1", "10.0.0.1:20880", {{"zone", "a"}, {"weight", "100"}}).ok());
  CHECK(registry.register_instance("orders", "i1", "elsewhere:1").code() == fourinone::Errc::exists);

  auto live = registry.instances("orders");
  REQUIRE(live.ok());
  REQUIRE(live->size() == 2);
  CHECK((*live)[0].id == "i1");
  CHECK((*live)[0].address == "10.0.0.1:20880");
  CHECK((*live)[0].metadata == std::map<std::string, std::string>{{"weight", "100"}, {"zone", "a"}});
  CHECK((*live)[0].session == p->session_id());
  CHECK((*live)[1].metadata.at("zone") == "b");

  // Metadata changes (a load figure, say) reach watchers and keep the address.
  std::promise<std::vector<Instance>> changed;
  int calls = 0;
  auto watch = registry.watch("orders", [&](const std::vector<Instance>& now) {
    if (++calls == 2) changed.set_value(now);
  });
  REQUIRE(watch.ok());
  REQUIRE(registry.update_metadata("orders", "i2", {{"zone", "b"}, {"load", "7"}}).ok());
  auto after = changed.get_future();
  REQUIRE(after.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  auto seen = after.get();
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].metadata.at("load") == "7");
  CHECK(seen[1].address == "10.0.0.2:20880");
  CHECK(registry.update_metadata("orders", "nobody", {}).code() == fourinone::Errc::not_found);
  auto stranger = park.connect();
  ServiceRegistry theirs(*stranger);
  CHECK(theirs.update_metadata("orders", "i2", {{"load", "0"}}).code() == fourinone::Errc::no_permission);
  CHECK(theirs.deregister("orders", "i2").code() == fourinone::Errc::no_permission);

  REQUIRE(registry.deregister("orders", "i2").ok());
  CHECK(ids(*registry.instances("orders")) == std::vector<std::string>{"i1"});
  CHECK(registry.deregister("orders", "i2").code() == fourinone::Errc::not_found);
}

TEST_CASE("a watcher sees an instance of a killed process disappear within the session timeout") {
  RunningPark park;
  auto watcher_park = park.connect();
  ServiceRegistry registry(*watcher_park);

  std::mutex mutex;
  std::vector<std::vector<std::string>> seen;  // every set delivered, in order
  auto watch = registry.watch("payments", [&](const std::vector<Instance>& live) {
    std::lock_guard lock(mutex);
    seen.push_back(ids(live));
  });
  REQUIRE(watch.ok());
  {
    std::lock_guard lock(mutex);
    REQUIRE(seen.size() == 1);  // the initial set, delivered before watch() returned
    CHECK(seen[0].empty());
  }

  Process registrant({FOURINONE_TEST_REGISTRANT, std::to_string(park.config.port), "payments", "p1",
                      "10.1.1.1:9000", "version=2.7"},
                     park.dir.file("registrant"));
  REQUIRE(wait_until([&] { return registrant.out().find("registered") != std::string::npos; }, 10s));
  REQUIRE(wait_until([&] {
    std::lock_guard lock(mutex);
    return seen.back() == std::vector<std::string>{"p1"};
  }, 5s));
  CHECK((*watch)->last_revision() > 0);
  // Metadata written by another process round-trips.
  auto live = registry.instances("payments");
  REQUIRE(live->size() == 1);
  CHECK((*live)[0].address == "10.1.1.1:9000");
  CHECK((*live)[0].metadata.at("version") == "2.7");

  registrant.signal(SIGKILL);
  registrant.wait(5s);
  auto killed_at = std::chrono::steady_clock::now();
  REQUIRE(wait_until([&] {
    std::lock_guard lock(mutex);
    return seen.back().empty();
  }, 6s));
  // Session timeout 2 s, plus the server's expiry sweep and the push.
  CHECK(std::chrono::steady_clock::now() - killed_at < 4s);
  std::lock_guard lock(mutex);
  CHECK(seen == std::vector<std::vector<std::string>>{{}, {"p1"}, {}});
}
