// PartitionBalancer (partitions.hpp) with real consumer processes that join and die (kill -9)
// while the test samples the owner nodes and lines up the consumers' printed views.
#include <doctest/doctest.h>

#include <csignal>
#include <functional>
#include <map>
#include <algorithm>
#include <atomic>
#include <climits>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "fourinone/partitions.hpp"
#include "tests/support/park_fixture.hpp"
#include "tests/support/park_group.hpp"

using namespace std::chrono_literals;
using fourinone::test::Process;
using fourinone::test::RunningPark;
using fourinone::test::wait_until;

namespace {

constexpr int kPartitions = 6;
constexpr const char* kGroup = "orders";
const std::string kOwners = std::string("fourinone.partitions:") + kGroup + ":owners";

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Member {
  std::string id;
  std::unique_ptr<Process> process;
  long long died_ms = -1;  // -1 while alive
};

// When one member held a partition, by its own printed view: [from, to).
struct Holding {
  std::string member;
  int partition = 0;
  long long from = 0;
  long long to = 0;
};

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  for (std::string p; std::getline(in, p, ',');) out.push_back(std::stoi(p));
  return out;
}

// The member's holdings from its output; open ones end at `end`.
std::vector<Holding> holdings_of(const Member& m, long long end) {
  std::vector<Holding> out;
  std::map<int, long long> open;
  std::stringstream in(m.process->out());
  std::string what, list;
  long long at = 0;
  while (in >> what >> at >> list) {
    for (int p : parse_list(list)) {
      if (what == "assigned") {
        open[p] = at;
      } else if (open.contains(p)) {
        out.push_back({m.id, p, open[p], at});
        open.erase(p);
      }
    }
  }
  for (auto [p, from] : open) out.push_back({m.id, p, from, std::max(from, end)});
  return out;
}

// The partitions the member's view holds now.
std::vector<int> view_of(const Member& m) {
  std::vector<int> out;
  for (const auto& h : holdings_of(m, LLONG_MAX)) {
    if (h.to == LLONG_MAX) out.push_back(h.partition);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Consumers join and die (kill -9) at random for a few seconds against the park at `ports`;
// `disturb` runs once midway (e.g. to kill the leader). Then checks that every partition ends
// with the owner the plan names within `settle` and that no two views ever overlapped.
void run_chaos(const std::string& ports, fourinone::Park& observer_park, const fourinone::test::TempDir& dir,
               const std::function<void()>& disturb, std::chrono::milliseconds settle) {
  auto* observer = &observer_park;
  std::vector<Member> members;
  int spawned = 0;
  auto spawn = [&] {
    Member m;
    m.id = "m" + std::to_string(spawned++);
    m.process = std::make_unique<Process>(
        std::vector<std::string>{FOURINONE_TEST_PARTITION_MEMBER, ports, kGroup, m.id,
                                 std::to_string(kPartitions)},
        dir.file(m.id));
    members.push_back(std::move(m));
  };
  auto alive = [&] {
    std::vector<Member*> out;
    for (auto& m : members) {
      if (m.died_ms < 0) out.push_back(&m);
    }
    return out;
  };

  // The owner nodes, sampled all along: each must name a member we started.
  std::atomic<bool> sampling{true};
  std::atomic<int> samples{0}, strangers{0};
  std::mutex ids_mutex;
  std::set<std::string> started_ids;
  for (int i = 0; i < 100; ++i) started_ids.insert("m" + std::to_string(i));
  std::thread sampler([&] {
    while (sampling) {
      auto owners = observer->list(kOwners);
      if (owners.ok()) {
        std::lock_guard lock(ids_mutex);
        for (const auto& n : *owners) {
          if (!started_ids.contains(n.value)) ++strangers;
        }
        ++samples;
      }
      std::this_thread::sleep_for(20ms);
    }
  });

  for (int i = 0; i < 3; ++i) spawn();
  std::mt19937 random(20261205);
  auto chaos_end = std::chrono::steady_clock::now() + 4500ms;
  bool disturbed = !disturb;
  while (std::chrono::steady_clock::now() < chaos_end) {
    if (!disturbed && std::chrono::steady_clock::now() > chaos_end - 2500ms) {
      disturb();
      disturbed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + random() % 500));
    auto live = alive();
    bool kill = live.size() >= 4 || (live.size() >= 2 && random() % 2 == 0);
    if (kill) {
      Member* victim = live[random() % live.size()];
      victim->died_ms = now_ms();  // before the signal: its view ends no later than this
      victim->process->signal(SIGKILL);
      victim->process->wait(5s);
    } else {
      spawn();
    }
  }

  // Every partition owned by a live member, as the plan for the live members says, within
  // one session timeout (2 s) plus margin after the last change.
  auto live = alive();
  std::vector<std::string> live_ids;
  for (auto* m : live) live_ids.push_back(m->id);
  auto plan = fourinone::assign_partitions(live_ids, kPartitions);
  auto settled = [&] {
    auto owners = observer->list(kOwners);
    if (!owners.ok() || owners->size() != static_cast<std::size_t>(kPartitions)) return false;
    for (const auto& n : *owners) {
      auto& mine = plan[n.value];
      if (std::find(mine.begin(), mine.end(), std::stoi(n.name)) == mine.end()) return false;
    }
    for (auto* m : live) {
      if (view_of(*m) != plan[m->id]) return false;
    }
    return true;
  };
  CHECK(wait_until(settled, settle));
  sampling = false;
  sampler.join();
  CHECK(samples > 10);
  CHECK(strangers == 0);
  CHECK(spawned >= 5);
  CHECK(spawned - live.size() >= 2);  // some members really died

  // No two members' views ever held one partition at the same moment.
  long long end = now_ms();
  std::vector<Holding> all;
  for (const auto& m : members) {
    auto h = holdings_of(m, m.died_ms < 0 ? end : m.died_ms);
    all.insert(all.end(), h.begin(), h.end());
  }
  int overlaps = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    for (std::size_t j = i + 1; j < all.size(); ++j) {
      const auto& a = all[i];
      const auto& b = all[j];
      if (a.partition == b.partition && a.member != b.member && a.from < b.to && b.from < a.to) {
        ++overlaps;
        MESSAGE("partition " << a.partition << " held by " << a.member << " [" << a.from << "," << a.to << ") and "
                             << b.member << " [" << b.from << "," << b.to << ")");
      }
    }
  }
  CHECK(overlaps == 0);
  CHECK(all.size() >= static_cast<std::size_t>(kPartitions));

  for (auto* m : live) {
    m->process->signal(SIGTERM);
    CHECK(m->process->wait(5s) == 0);
  }
  // Stopped cleanly, the members gave everything back at once.
  CHECK(wait_until([&] { return observer->list(kOwners).status().code() == fourinone::Errc::not_found ||
                                observer->list(kOwners)->empty(); }, 2s));
}

}  // namespace

TEST_CASE("consumers that join and die never share a partition, and the survivors own them all") {
  RunningPark park;
  auto observer = park.connect();
  // Session timeout 2 s, plus margin.
  run_chaos(std::to_string(park.config.port), *observer, park.dir, {}, 5s);
}

TEST_CASE("the partition balance also holds while the leader of a 3-server group is killed") {
  fourinone::test::ParkGroup group(3);
  REQUIRE(group.start_all());
  auto leader = group.wait_for_leader();
  REQUIRE(leader.has_value());
  std::string ports;
  for (std::size_t i = 0; i < group.size(); ++i) {
    auto address = group.address(i);
    ports += (ports.empty() ? "" : ",") + address.substr(address.rfind(':') + 1);
  }
  auto observer = group.connect();
  // Election, then the sessions of the dead consumers time out (2 s): margin for both.
  run_chaos(ports, *observer, group.dir(), [&] { group.kill(*leader); }, 10s);
}

TEST_CASE("a balancer alone owns every partition and gives them back when stopped") {
  RunningPark park;
  auto p = park.connect();
  std::mutex mutex;
  std::vector<int> assigned, revoked;
  fourinone::PartitionOptions options;
  options.group = "solo";
  options.member_id = "only";
  options.partitions = 4;
  options.on_assigned = [&](const std::vector<int>& got) {
    std::lock_guard lock(mutex);
    assigned.insert(assigned.end(), got.begin(), got.end());
  };
  options.on_revoked = [&](const std::vector<int>& lost) {
    std::lock_guard lock(mutex);
    revoked.insert(revoked.end(), lost.begin(), lost.end());
  };
  auto balancer = fourinone::PartitionBalancer::start(*p, options);
  REQUIRE(balancer.ok());
  REQUIRE(wait_until([&] { return (*balancer)->owned().size() == 4; }, 5s));
  {
    std::lock_guard lock(mutex);
    CHECK(assigned == std::vector<int>{0, 1, 2, 3});
  }
  auto owners = p->list("fourinone.partitions:solo:owners");
  REQUIRE(owners.ok());
  CHECK(owners->size() == 4);
  for (const auto& n : *owners) CHECK(n.value == "only");
  balancer->reset();
  CHECK(revoked == std::vector<int>{0, 1, 2, 3});
  CHECK(p->list("fourinone.partitions:solo:owners").status().code() == fourinone::Errc::not_found);
  CHECK(fourinone::PartitionBalancer::start(*p, fourinone::PartitionOptions{}).status().code() ==
        fourinone::Errc::bad_request);
}

TEST_CASE("an owner node of our own session that the plan gives to another member is removed") {
  RunningPark park;
  auto p = park.connect();
  auto other = park.connect();
  fourinone::CreateOptions heartbeat;
  heartbeat.heartbeat = true;
  // Member "a" (another client) is due partition 0, "b" (us) partition 1. Our session holds
  // partition 0's node already, as a create that timed out after it happened would leave it.
  REQUIRE(other->create("fourinone.partitions:stray:members", "a", "", heartbeat).ok());
  REQUIRE(p->create("fourinone.partitions:stray:owners", "0", "b", heartbeat).ok());
  fourinone::PartitionOptions options;
  options.group = "stray";
  options.member_id = "b";
  options.partitions = 2;
  auto balancer = fourinone::PartitionBalancer::start(*p, options);
  REQUIRE(balancer.ok());
  REQUIRE(wait_until([&] { return (*balancer)->owned() == std::vector<int>{1}; }, 5s));
  CHECK(wait_until([&] { return p->get("fourinone.partitions:stray:owners", "0").status().code() ==
                                fourinone::Errc::not_found; }, 3s));
}
