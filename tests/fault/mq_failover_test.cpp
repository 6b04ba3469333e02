// Fault test: kill -9 the park leader while producers send and a consumer receives and
// acks a steady stream. Every send that returned OK is received at least once, and no
// producer's messages come out of order (DESIGN §5, mq/README.md "Guarantees").
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fourinone/mq.hpp"
#include "tests/support/park_group.hpp"

using namespace std::chrono_literals;
using fourinone::Mq;
using fourinone::MqOptions;
using fourinone::test::ParkGroup;
using fourinone::test::wait_until;

namespace {

std::unique_ptr<Mq> connect_mq(const ParkGroup& group) {
  MqOptions o;
  o.park = group.options();
  auto mq = Mq::connect(o);
  REQUIRE_MESSAGE(mq.ok(), mq.status().to_string());
  return std::move(mq).value();
}

// "P-N" -> (P, N)
std::pair<int, long> parse(const std::string& body) {
  auto dash = body.find('-');
  return {std::stoi(body.substr(0, dash)), std::stol(body.substr(dash + 1))};
}

// What the producers were told was stored, and what the consumer saw.
struct Ledger {
  std::mutex mutex;
  std::map<int, std::set<long>> acknowledged;  // producer -> numbers whose send returned OK
  std::map<int, std::set<long>> received;
  std::map<int, long> last_first_delivery;     // producer -> highest number seen so far
  long out_of_order = 0;
  long redeliveries = 0;
  std::atomic<long> sends_ok{0};
  std::atomic<long> send_errors{0};
  std::string first_error;

  void failed(const fourinone::Status& s) {
    std::lock_guard lock(mutex);
    if (send_errors++ == 0) first_error = s.to_string();
  }

  void sent(int p, long n) {
    std::lock_guard lock(mutex);
    acknowledged[p].insert(n);
    ++sends_ok;
  }
  void got(const fourinone::Message& m) {
    auto [p, n] = parse(m.body);
    std::lock_guard lock(mutex);
    if (!received[p].insert(n).second || m.deliveries > 1) {
      ++redeliveries;
      return;
    }
    if (n < last_first_delivery[p]) ++out_of_order;
    last_first_delivery[p] = std::max(last_first_delivery[p], n);
  }
  long missing() {
    std::lock_guard lock(mutex);
    long lost = 0;
    for (const auto& [p, ns] : acknowledged) {
      for (long n : ns) lost += received[p].count(n) == 0;
    }
    return lost;
  }
};

}  // namespace

TEST_CASE("mq: kill -9 of the park leader during a steady stream loses no acknowledged send and keeps order") {
  ParkGroup group(3);
  REQUIRE(group.start_all());
  REQUIRE(group.wait_for_leader().has_value());
  Ledger ledger;
  std::atomic<bool> stop_sending{false};
  std::atomic<bool> stop_receiving{false};

  // Producer 0 sends one message at a time; producer 1 keeps 64 sends in flight, which the
  // client batches (several requests per channel travel at once across the failover).
  std::thread sync_producer([&] {
    auto mq = connect_mq(group);
    for (long n = 1; !stop_sending; ++n) {
      auto r = mq->send("stream", "0-" + std::to_string(n));
      if (r.ok()) {
        ledger.sent(0, n);
      } else {
        ledger.failed(r.status());
      }
    }
  });
  std::thread async_producer([&] {
    auto mq = connect_mq(group);
    std::atomic<int> in_flight{0};
    for (long n = 1; !stop_sending; ++n) {
      while (in_flight >= 64 && !stop_sending) std::this_thread::sleep_for(1ms);
      ++in_flight;
      mq->async_send("stream", "1-" + std::to_string(n), [&, n](fourinone::Result<std::uint64_t> r) {
        if (r.ok()) {
          ledger.sent(1, n);
        } else {
          ledger.failed(r.status());
        }
        --in_flight;
      });
    }
    wait_until([&] { return in_flight == 0; }, 30s);
  });
  std::thread consumer([&] {
    auto mq = connect_mq(group);
    while (!stop_receiving) {
      auto r = mq->receive("stream", 64, 200ms);
      if (!r.ok()) continue;  // a failover: the next receive finds the new leader
      for (const auto& m : *r) ledger.got(m);
      (void)mq->ack(*r);  // a failed ack only means a later redelivery
    }
  });

  for (int kill = 0; kill < 3; ++kill) {
    REQUIRE(wait_until([&] { return ledger.sends_ok > 3000 * (kill + 1); }, 20s));
    auto leader = group.wait_for_leader(15s);
    REQUIRE(leader.has_value());
    long before = ledger.sends_ok;
    group.kill(*leader);
    CHECK_MESSAGE(wait_until([&] { return ledger.sends_ok > before + 50; }, 20s), "sends did not resume after kill " << kill);
    REQUIRE(group.start(*leader));
  }
  stop_sending = true;
  sync_producer.join();
  async_producer.join();
  // Drain: everything acknowledged must arrive.
  CHECK(wait_until([&] { return ledger.missing() == 0; }, 30s));
  stop_receiving = true;
  consumer.join();

  MESSAGE(ledger.sends_ok.load() << " sends acknowledged, " << ledger.send_errors.load() << " failed, "
                                 << ledger.redeliveries << " redeliveries; first error: " << ledger.first_error);
  CHECK(ledger.missing() == 0);
  CHECK(ledger.out_of_order == 0);
  CHECK(ledger.sends_ok > 9000);
}
