// The linearizability checker (tests/support/linearizability.hpp): hand-written histories it
// must accept or reject, threads recording against a mutex-protected map, randomized
// histories generated from a sequential model run with random concurrent timing (linearizable
// by construction), which must pass, and then fail once one read is made to see a value no
// write produced or one overwritten long before, small random histories checked against a
// brute-force search, and timings.
//
// The seeds are fixed, so a failure replays; FOURINONE_LIN_SEED=<n> runs one other seed.
// FOURINONE_LIN_BRUTE_ROUNDS / FOURINONE_LIN_BRUTE_OPS size the brute-force comparison;
// FOURINONE_LIN_SHOW=1 prints the explanation of every rejected history.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "tests/support/linearizability.hpp"

using fourinone::test::lin::check_linearizable;
using fourinone::test::lin::CheckResult;
using fourinone::test::lin::format_history;
using fourinone::test::lin::HistoryRecorder;
using fourinone::test::lin::Operation;
using fourinone::test::lin::OpKind;
using fourinone::test::lin::Outcome;
using fourinone::test::lin::Verdict;

namespace {

using Value = std::optional<std::string>;
const Value kAbsent = std::nullopt;
constexpr auto kBudget = std::chrono::milliseconds(2000);

Operation timed(Operation op, std::int64_t call, std::int64_t ret, Outcome outcome) {
  op.call_time = call;
  op.return_time = ret;
  op.outcome = outcome;
  return op;
}

Operation write(std::uint64_t client, const std::string& key, const std::string& value, std::int64_t call,
                std::int64_t ret, Outcome outcome = Outcome::ok) {
  return timed(Operation::write(client, key, value), call, ret, outcome);
}

Operation read(std::uint64_t client, const std::string& key, Value seen, std::int64_t call, std::int64_t ret) {
  Operation op = timed(Operation::read(client, key), call, ret, Outcome::ok);
  op.result = std::move(seen);
  return op;
}

Operation cas(std::uint64_t client, const std::string& key, Value expected, const std::string& value,
              std::int64_t call, std::int64_t ret, Outcome outcome) {
  return timed(Operation::cas(client, key, std::move(expected), value), call, ret, outcome);
}

Operation remove(std::uint64_t client, const std::string& key, std::int64_t call, std::int64_t ret,
                 Outcome outcome) {
  return timed(Operation::remove(client, key), call, ret, outcome);
}

// An outcome never learnt: the return time is meaningless.
Operation unknown(Operation op) {
  op.outcome = Outcome::unknown;
  op.return_time = 0;
  return op;
}

CheckResult check(const std::vector<Operation>& history) { return check_linearizable(history, kBudget); }

void accepted(const std::vector<Operation>& history) {
  const CheckResult r = check(history);
  CHECK_MESSAGE(r.verdict == Verdict::linearizable, r.explanation, "\n", format_history(history));
}

// Rejected, with `culprit` (an index in history) as the operation that cannot be placed.
CheckResult rejected(const std::vector<Operation>& history, std::optional<std::size_t> culprit = std::nullopt) {
  const CheckResult r = check(history);
  CHECK_MESSAGE(r.verdict == Verdict::not_linearizable, r.explanation, "\n", format_history(history));
  if (std::getenv("FOURINONE_LIN_SHOW")) MESSAGE(r.explanation);
  if (r.verdict == Verdict::not_linearizable) {
    CHECK(r.explanation.find("NOT linearizable") != std::string::npos);
    if (culprit) {
      CHECK_MESSAGE(r.culprit == culprit, r.explanation);
      CHECK(std::find(r.failing_ops.begin(), r.failing_ops.end(), *culprit) != r.failing_ops.end());
    }
  }
  return r;
}

}  // namespace

TEST_CASE("linearizability: sequential histories are accepted") {
  accepted({});
  accepted({read(1, "x", kAbsent, 0, 1)});
  accepted({
      write(1, "x", "a", 0, 10),
      read(1, "x", "a", 20, 30),
      cas(1, "x", "a", "b", 40, 50, Outcome::ok),
      read(2, "x", "b", 60, 70),
      cas(2, "x", "a", "c", 80, 90, Outcome::failed),
      remove(1, "x", 100, 110, Outcome::ok),
      read(1, "x", kAbsent, 120, 130),
      remove(2, "x", 140, 150, Outcome::not_found),
      cas(2, "x", kAbsent, "d", 160, 170, Outcome::ok),
      cas(1, "x", kAbsent, "e", 180, 190, Outcome::failed),
      read(1, "x", "d", 200, 210),
      write(3, "y", "a", 5, 15),  // another key: independent
      read(3, "y", "a", 215, 220),
  });
}

TEST_CASE("linearizability: concurrent histories whose order can be chosen are accepted") {
  SUBCASE("two overlapping writes, reads after both settle on one") {
    accepted({write(1, "x", "a", 0, 100), write(2, "x", "b", 10, 90), read(3, "x", "a", 110, 120),
              read(1, "x", "a", 130, 140)});
    accepted({write(1, "x", "a", 0, 100), write(2, "x", "b", 10, 90), read(3, "x", "b", 110, 120)});
  }
  SUBCASE("reads during a write see old then new") {
    accepted({write(1, "x", "a", 0, 10), write(2, "x", "b", 20, 100), read(3, "x", "a", 25, 30),
              read(3, "x", "b", 40, 50), read(4, "x", "b", 45, 60), read(1, "x", "b", 110, 120)});
  }
  SUBCASE("one reader sees both concurrent writes in one order") {
    accepted({write(1, "x", "1", 0, 100), write(2, "x", "2", 0, 100), read(3, "x", "1", 10, 20),
              read(3, "x", "2", 30, 40), read(4, "x", "2", 50, 60)});
  }
  SUBCASE("a read overlapping everything may see any value") {
    accepted({read(9, "x", "b", 0, 1000), write(1, "x", "a", 10, 20), write(1, "x", "b", 30, 40),
              write(1, "x", "c", 50, 60), read(2, "x", "c", 70, 80)});
  }
  SUBCASE("a return at the instant of another call counts as concurrent") {
    accepted({write(1, "x", "a", 0, 10), read(2, "x", kAbsent, 10, 15), read(3, "x", "a", 16, 20)});
  }
  SUBCASE("interleaved keys are checked separately") {
    accepted({write(1, "x", "a", 0, 50), write(2, "y", "b", 0, 50), read(3, "x", "a", 10, 60),
              read(5, "y", kAbsent, 20, 30), read(4, "y", "b", 40, 80)});
  }
}

TEST_CASE("linearizability: unknown outcomes may or may not have happened") {
  const Operation done = write(1, "x", "a", 0, 10);
  const Operation lost = unknown(write(2, "x", "b", 20, 0));
  SUBCASE("it happened") {
    accepted({done, lost, read(3, "x", "b", 100, 110), read(3, "x", "b", 120, 130)});
  }
  SUBCASE("it never happened") {
    accepted({done, lost, read(3, "x", "a", 100, 110), read(3, "x", "a", 5000, 5010)});
  }
  SUBCASE("it happened long after its call") {
    accepted({done, lost, read(3, "x", "a", 100, 110), read(3, "x", "b", 5000, 5010)});
  }
  SUBCASE("but only once") {
    rejected({done, lost, read(3, "x", "b", 100, 110), read(3, "x", "a", 200, 210)}, 3);
  }
  SUBCASE("and not before its call") {
    rejected({done, read(3, "x", "b", 11, 15), lost}, 1);
  }
  SUBCASE("an unknown cas only if its expectation held") {
    accepted({done, unknown(cas(2, "x", "a", "c", 20, 0, Outcome::ok)), read(3, "x", "c", 100, 110)});
    rejected({done, unknown(cas(2, "x", "zzz", "c", 20, 0, Outcome::ok)), read(3, "x", "c", 100, 110)}, 2);
  }
  SUBCASE("an unknown remove") {
    accepted({done, unknown(remove(2, "x", 20, 0, Outcome::ok)), read(3, "x", "a", 30, 40),
              read(3, "x", kAbsent, 100, 110)});
  }
  SUBCASE("an unknown read says nothing") {
    Operation ghost = unknown(read(2, "x", "never written", 20, 0));
    accepted({done, ghost});
  }
  SUBCASE("a write refused before doing anything is dropped") {
    const Operation refused = write(2, "x", "b", 20, 30, Outcome::failed_definitely);
    accepted({done, refused, read(3, "x", "a", 40, 50)});
    rejected({done, refused, read(3, "x", "b", 40, 50)}, 2);
  }
  SUBCASE("many unknown writes, a few of them seen") {
    std::vector<Operation> history{done};
    for (int i = 0; i < 30; ++i) history.push_back(unknown(write(10 + i, "x", "u" + std::to_string(i), 20 + i, 0)));
    history.push_back(read(1, "x", "u7", 100, 110));
    history.push_back(read(1, "x", "u3", 120, 130));
    history.push_back(read(1, "x", "u29", 140, 150));
    history.push_back(write(1, "x", "z", 160, 170));
    history.push_back(read(1, "x", "z", 180, 190));
    accepted(history);
    history.push_back(read(1, "x", "u3", 200, 210));  // u3 was seen already and overwritten since
    rejected(history, history.size() - 1);
  }
}

TEST_CASE("linearizability: cas races") {
  const Operation init = write(0, "x", "0", 0, 10);
  SUBCASE("one winner among racers with the same expectation") {
    accepted({init, cas(1, "x", "0", "1", 20, 50, Outcome::ok), cas(2, "x", "0", "2", 25, 45, Outcome::failed),
              cas(3, "x", "0", "3", 30, 40, Outcome::failed), read(4, "x", "1", 60, 70)});
    accepted({init, cas(1, "x", "0", "1", 20, 50, Outcome::failed), cas(2, "x", "0", "2", 25, 45, Outcome::ok),
              read(4, "x", "2", 60, 70)});
  }
  SUBCASE("two winners with the same expectation") {
    rejected({init, cas(1, "x", "0", "1", 20, 50, Outcome::ok), cas(2, "x", "0", "2", 25, 45, Outcome::ok)});
  }
  SUBCASE("two winners are fine if the value was written back in between") {
    accepted({init, cas(1, "x", "0", "1", 20, 50, Outcome::ok), cas(2, "x", "0", "2", 25, 45, Outcome::ok),
              write(3, "x", "0", 30, 40)});
  }
  SUBCASE("a chain of increments by cas") {
    std::vector<Operation> history{init};
    // Four clients race to bump the counter; each round one wins, the others fail.
    for (int round = 0; round < 20; ++round) {
      const std::int64_t t = 100 + round * 100;
      const int winner = round % 4;
      for (int c = 0; c < 4; ++c) {
        history.push_back(cas(static_cast<std::uint64_t>(c + 1), "x", std::to_string(round),
                              std::to_string(round + 1), t + c, t + 50 + c,
                              c == winner ? Outcome::ok : Outcome::failed));
      }
    }
    history.push_back(read(9, "x", "20", 5000, 5010));
    accepted(history);
  }
  SUBCASE("a failed cas when its expectation certainly held") {
    rejected({init, cas(1, "x", "0", "1", 20, 30, Outcome::failed)}, 1);
  }
}

TEST_CASE("linearizability: violations are rejected and explained") {
  SUBCASE("a stale read after a completed write") {
    const CheckResult r =
        rejected({write(1, "x", "a", 0, 10), write(2, "x", "b", 20, 30), read(3, "x", "a", 40, 50)}, 2);
    CHECK(r.key == "x");
    CHECK(r.explanation.find("read(\"x\") -> \"a\"") != std::string::npos);
    CHECK(r.explanation.find("cannot be placed") != std::string::npos);
  }
  SUBCASE("two readers see two writes in opposite orders") {
    const CheckResult r = rejected({write(1, "x", "1", 0, 1000), write(2, "x", "2", 0, 1000),
                                    read(3, "x", "1", 10, 20), read(3, "x", "2", 30, 40), read(4, "x", "2", 10, 20),
                                    read(4, "x", "1", 30, 40)});
    CHECK(r.failing_ops.size() == 6);  // every read is needed for the contradiction
  }
  SUBCASE("a cas succeeds on a value already overwritten") {
    rejected({write(1, "x", "a", 0, 10), write(2, "x", "b", 20, 30), cas(3, "x", "a", "c", 40, 50, Outcome::ok)}, 2);
  }
  SUBCASE("a read of a value never written") {
    const CheckResult r = rejected({write(1, "x", "a", 0, 10), read(2, "x", "ghost", 20, 30)}, 1);
    CHECK(r.explanation.find("ghost") != std::string::npos);
  }
  SUBCASE("a lost acknowledged write") {
    rejected({write(1, "x", "a", 0, 10), read(2, "x", kAbsent, 20, 30)}, 1);
    rejected({write(1, "x", "a", 0, 10), write(2, "x", "b", 20, 30), read(1, "x", "b", 40, 50),
              read(3, "x", "a", 60, 70)},
             3);
  }
  SUBCASE("removes") {
    rejected({write(1, "x", "a", 0, 10), remove(2, "x", 20, 30, Outcome::ok), read(3, "x", "a", 40, 50)}, 2);
    rejected({write(1, "x", "a", 0, 10), remove(2, "x", 20, 30, Outcome::not_found)}, 1);
    rejected({remove(2, "x", 20, 30, Outcome::ok)}, 0);
  }
  SUBCASE("the smallest failing prefix, not the whole history") {
    std::vector<Operation> history;
    for (int i = 0; i < 50; ++i) {
      const std::int64_t t = i * 100;
      history.push_back(write(1, "x", "v" + std::to_string(i), t, t + 30));
      history.push_back(read(2, "x", "v" + std::to_string(i), t + 40, t + 60));
    }
    history[61].result = "v20";  // read of round 30 sees round 20's value
    const CheckResult r = rejected(history, 61);
    // Shown: that read, the write of v30 before it, and the write of v20 it saw.
    CHECK(r.failing_ops.size() == 3);
    CHECK(std::find(r.failing_ops.begin(), r.failing_ops.end(), 60) != r.failing_ops.end());
    CHECK(std::find(r.failing_ops.begin(), r.failing_ops.end(), 40) != r.failing_ops.end());
    for (std::size_t i : r.failing_ops) CHECK(i <= 61);
  }
  SUBCASE("only the broken key is reported") {
    const CheckResult r = rejected({write(1, "a", "1", 0, 10), read(2, "a", "1", 20, 30), write(1, "b", "1", 0, 10),
                                    read(2, "b", kAbsent, 20, 30), write(1, "c", "1", 0, 10)},
                                   3);
    CHECK(r.key == "b");
    REQUIRE(r.keys.size() == 3);
    CHECK(r.keys[0].verdict == Verdict::linearizable);
    CHECK(r.keys[1].verdict == Verdict::not_linearizable);
    CHECK(r.keys[2].verdict == Verdict::linearizable);
  }
}

TEST_CASE("linearizability: a search over budget is timed_out, not a pass") {
  // 26 concurrent writes, which may have happened in any order, and a read during all of them
  // that no order explains: proving that means trying every subset of the writes, far beyond
  // a 50 ms budget.
  std::vector<Operation> history;
  for (int i = 0; i < 26; ++i) history.push_back(write(1 + i, "x", "w" + std::to_string(i), i, 1000 + i));
  history.push_back(read(99, "x", "ghost", 100, 2000));
  history.push_back(write(1, "y", "1", 0, 10));
  const auto started = std::chrono::steady_clock::now();
  const CheckResult r = check_linearizable(history, std::chrono::milliseconds(50));
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(r.verdict == Verdict::timed_out);
  CHECK(!r.linearizable());
  CHECK(r.key == "x");
  CHECK(r.explanation.find("TIMED OUT") != std::string::npos);
  CHECK(r.explanation.find("not a pass") != std::string::npos);
  CHECK(took < std::chrono::seconds(2));
}

TEST_CASE("linearizability: malformed operations are refused") {
  CHECK_THROWS_AS(check({write(1, "x", "a", 10, 5)}), std::invalid_argument);
  CHECK_THROWS_AS(check({write(1, "x", "a", 0, 5, Outcome::failed)}), std::invalid_argument);
  CHECK_THROWS_AS(check({remove(1, "x", 0, 5, Outcome::failed)}), std::invalid_argument);
  CHECK_THROWS_AS(check({cas(1, "x", "a", "b", 0, 5, Outcome::not_found)}), std::invalid_argument);
  CHECK_NOTHROW(check({write(1, "x", "a", 10, 5, Outcome::failed_definitely)}));
}

TEST_CASE("linearizability: a history recorded from threads on a locked map") {
  HistoryRecorder recorder;
  std::mutex mutex;
  std::map<std::string, std::string> store;
  const std::vector<std::string> keys{"k0", "k1", "k2"};
  constexpr int kThreads = 4;
  constexpr int kOps = 150;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(1000 + t));
      for (int i = 0; i < kOps; ++i) {
        const std::string& key = keys[rng() % keys.size()];
        const std::string value = std::to_string(t) + "." + std::to_string(i);
        switch (rng() % 4) {
          case 0: {
            const auto token = recorder.begin(Operation::write(static_cast<std::uint64_t>(t), key, value));
            { std::lock_guard lock(mutex); store[key] = value; }
            recorder.end(token, Outcome::ok);
            break;
          }
          case 1: {
            const auto token = recorder.begin(Operation::read(static_cast<std::uint64_t>(t), key));
            Value seen;
            {
              std::lock_guard lock(mutex);
              if (auto it = store.find(key); it != store.end()) seen = it->second;
            }
            recorder.end_read(token, seen);
            break;
          }
          case 2: {
            Value expected;
            {
              std::lock_guard lock(mutex);
              if (auto it = store.find(key); it != store.end()) expected = it->second;
            }
            const auto token = recorder.begin(Operation::cas(static_cast<std::uint64_t>(t), key, expected, value));
            bool swapped = false;
            {
              std::lock_guard lock(mutex);
              auto it = store.find(key);
              const Value now = it == store.end() ? kAbsent : Value(it->second);
              if (now == expected) {
                store[key] = value;
                swapped = true;
              }
            }
            recorder.end(token, swapped ? Outcome::ok : Outcome::failed);
            break;
          }
          default: {
            const auto token = recorder.begin(Operation::remove(static_cast<std::uint64_t>(t), key));
            bool removed = false;
            { std::lock_guard lock(mutex); removed = store.erase(key) > 0; }
            recorder.end(token, removed ? Outcome::ok : Outcome::not_found);
            break;
          }
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  // A client that gave up waiting: begun, never ended, so unknown.
  recorder.begin(Operation::write(99, "k0", "abandoned"));
  CHECK_THROWS_AS(recorder.end(0, Outcome::ok), std::logic_error);

  const std::vector<Operation> history = recorder.history();
  REQUIRE(history.size() == kThreads * kOps + 1);
  CHECK(history.back().outcome == Outcome::unknown);
  const CheckResult r = check(history);
  CHECK_MESSAGE(r.linearizable(), r.explanation);

  const std::string text = format_history(history);
  CHECK(text.find("601 operation(s) on 3 key(s) from 5 client(s)") != std::string::npos);
  CHECK(text.find("c99 write(\"k0\", \"abandoned\") -> unknown") != std::string::npos);
}

// ------------------------------------------------------------------------------------------------
// Randomized: a sequential model run with random concurrent timing.

namespace {

struct Shape {
  int clients = 4;
  int ops_per_client = 40;
  int keys = 2;
  int unknown_percent = 5;  // of these, half take effect
  int refused_percent = 2;
};

// Each client runs its operations one after another with random gaps and durations; each
// operation takes effect at a random instant within its call..return. Running them on a map
// in the order of those instants gives every result, so the history is linearizable.
std::vector<Operation> generate(std::mt19937_64& rng, const Shape& shape) {
  auto below = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  struct Planned {
    std::int64_t point;
    std::uint64_t tiebreak;
    std::size_t index;
    bool known;
    bool takes_effect;
  };
  std::vector<Operation> history;
  std::vector<Planned> plan;
  for (int c = 0; c < shape.clients; ++c) {
    std::int64_t t = below(50) * 1000;
    for (int i = 0; i < shape.ops_per_client; ++i) {
      const std::int64_t call = t + below(20) * 1000;
      const std::int64_t ret = call + 1 + below(60) * 1000;
      const std::string key = "k" + std::to_string(below(shape.keys));
      Operation op;
      const int kind = below(100);
      if (kind < 35) {
        op = Operation::read(static_cast<std::uint64_t>(c), key);
      } else if (kind < 65) {
        op = Operation::write(static_cast<std::uint64_t>(c), key, "v" + std::to_string(history.size()));
      } else if (kind < 85) {
        op = Operation::cas(static_cast<std::uint64_t>(c), key, kAbsent, "v" + std::to_string(history.size()));
      } else {
        op = Operation::remove(static_cast<std::uint64_t>(c), key);
      }
      op.call_time = call;
      op.return_time = ret;
      bool known = true;
      bool takes_effect = true;
      const int fate = below(100);
      if (fate < shape.unknown_percent) {
        op.outcome = Outcome::unknown;
        known = false;
        takes_effect = below(2) == 0;
      } else if (fate < shape.unknown_percent + shape.refused_percent) {
        op.outcome = Outcome::failed_definitely;
        known = false;
        takes_effect = false;
      }
      plan.push_back({call + below(static_cast<int>(ret - call) + 1), rng(), history.size(), known, takes_effect});
      history.push_back(std::move(op));
      t = ret;
    }
  }
  std::sort(plan.begin(), plan.end(), [](const Planned& a, const Planned& b) {
    return std::tie(a.point, a.tiebreak) < std::tie(b.point, b.tiebreak);
  });
  std::map<std::string, Value> model;
  std::map<std::string, std::vector<std::string>> written;  // per key, for cas expectations
  for (const Planned& p : plan) {
    Operation& op = history[p.index];
    Value& now = model[op.key];
    if (op.kind == OpKind::cas) {  // expect the current value half of the time
      const auto& pool = written[op.key];
      const int pick = below(10);
      if (p.takes_effect && pick < 5) {
        op.expected = now;
      } else if (pick < 7 || pool.empty()) {
        op.expected = kAbsent;
      } else {
        const int back = below(std::min<int>(3, static_cast<int>(pool.size())));
        op.expected = pool[pool.size() - 1 - static_cast<std::size_t>(back)];
      }
    }
    const bool known = p.known;
    if (!p.takes_effect) continue;
    switch (op.kind) {
      case OpKind::read:
        op.result = now;
        if (known) op.outcome = Outcome::ok;
        break;
      case OpKind::write:
        now = op.value;
        written[op.key].push_back(*op.value);
        if (known) op.outcome = Outcome::ok;
        break;
      case OpKind::cas: {
        const bool swapped = now == op.expected;
        if (swapped) {
          now = op.value;
          written[op.key].push_back(*op.value);
        }
        if (known) op.outcome = swapped ? Outcome::ok : Outcome::failed;
        break;
      }
      case OpKind::remove:
        if (known) op.outcome = now ? Outcome::ok : Outcome::not_found;
        now = kAbsent;
        break;
    }
  }
  return history;
}

bool changes_value(const Operation& op) {
  if (op.outcome != Outcome::ok) return false;
  return op.kind == OpKind::write || op.kind == OpKind::cas || op.kind == OpKind::remove;
}

// A read whose result is replaced by a value overwritten before its call: written by a write
// that returned before some other change of the key, which itself returned before the read
// was called. Values are unique, so nothing can bring it back. Picks the oldest such write.
std::optional<std::pair<std::size_t, std::string>> stale_mutation(std::mt19937_64& rng,
                                                                  const std::vector<Operation>& h) {
  std::vector<std::size_t> reads;
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (h[i].kind == OpKind::read && h[i].outcome == Outcome::ok) reads.push_back(i);
  }
  std::shuffle(reads.begin(), reads.end(), rng);
  for (std::size_t r : reads) {
    std::optional<std::size_t> best;
    for (std::size_t w = 0; w < h.size(); ++w) {
      if (h[w].key != h[r].key || h[w].outcome != Outcome::ok || h[w].kind != OpKind::write) continue;
      if (h[w].value == h[r].result) continue;
      if (best && h[*best].return_time <= h[w].return_time) continue;
      for (std::size_t m = 0; m < h.size(); ++m) {
        if (m != w && h[m].key == h[r].key && changes_value(h[m]) && h[w].return_time < h[m].call_time &&
            h[m].return_time < h[r].call_time && h[m].value != h[w].value) {
          best = w;
          break;
        }
      }
    }
    if (best) return std::make_pair(r, *h[*best].value);
  }
  return std::nullopt;
}

std::optional<std::size_t> random_read(std::mt19937_64& rng, const std::vector<Operation>& h) {
  std::vector<std::size_t> reads;
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (h[i].kind == OpKind::read && h[i].outcome == Outcome::ok) reads.push_back(i);
  }
  if (reads.empty()) return std::nullopt;
  return reads[rng() % reads.size()];
}

std::vector<std::uint64_t> seeds(std::uint64_t first, int count) {
  if (const char* env = std::getenv("FOURINONE_LIN_SEED")) return {std::strtoull(env, nullptr, 10)};
  std::vector<std::uint64_t> out;
  for (int i = 0; i < count; ++i) out.push_back(first + static_cast<std::uint64_t>(i));
  return out;
}

}  // namespace

TEST_CASE("linearizability: randomized histories pass, and fail once one read is corrupted") {
  const std::vector<Shape> shapes{
      {.clients = 3, .ops_per_client = 30, .keys = 1, .unknown_percent = 0, .refused_percent = 0},
      {.clients = 4, .ops_per_client = 40, .keys = 2, .unknown_percent = 5, .refused_percent = 2},
      {.clients = 8, .ops_per_client = 40, .keys = 1, .unknown_percent = 3, .refused_percent = 2},
      {.clients = 6, .ops_per_client = 60, .keys = 3, .unknown_percent = 10, .refused_percent = 5},
  };
  int ghost_checks = 0;
  int stale_checks = 0;
  for (const Shape& shape : shapes) {
    for (std::uint64_t seed : seeds(7000, 25)) {
      CAPTURE(seed);
      CAPTURE(shape.clients);
      CAPTURE(shape.keys);
      std::mt19937_64 rng(seed);
      std::vector<Operation> history = generate(rng, shape);
      const CheckResult good = check(history);
      REQUIRE_MESSAGE(good.linearizable(), good.explanation, "\n", format_history(history));

      if (const auto r = random_read(rng, history)) {
        std::vector<Operation> ghost = history;
        ghost[*r].result = "never written";
        rejected(ghost, *r);
        ++ghost_checks;
      }
      if (const auto stale = stale_mutation(rng, history)) {
        std::vector<Operation> bad = history;
        bad[stale->first].result = stale->second;
        rejected(bad, stale->first);
        ++stale_checks;
      }
    }
  }
  MESSAGE("corrupted histories rejected: ", ghost_checks, " with a value never written, ", stale_checks,
          " with a value overwritten before the read");
  if (!std::getenv("FOURINONE_LIN_SEED")) {
    CHECK(ghost_checks >= 80);
    CHECK(stale_checks >= 60);
  }
}

namespace {

// The definition, by brute force and nothing clever: some order of the known operations, plus
// any of the unknown ones, respecting real time, that replays on a register with every known
// result. Exponential; small histories only.
bool brute_force_linearizable(const std::vector<Operation>& all) {
  std::vector<Operation> ops;
  for (const Operation& op : all) {
    if (op.outcome != Outcome::failed_definitely) ops.push_back(op);
  }
  const std::size_t n = ops.size();
  auto known = [&](std::size_t i) { return ops[i].outcome != Outcome::unknown; };
  auto before = [&](std::size_t a, std::size_t b) {  // a must precede b
    return known(a) && ops[a].return_time < ops[b].call_time;
  };
  std::vector<bool> used(n, false);
  std::function<bool(const Value&)> extend = [&](const Value& value) -> bool {
    bool all_known_used = true;
    for (std::size_t i = 0; i < n; ++i) all_known_used = all_known_used && (used[i] || !known(i));
    if (all_known_used) return true;
    for (std::size_t i = 0; i < n; ++i) {
      if (used[i]) continue;
      bool ready = true;
      for (std::size_t j = 0; j < n; ++j) ready = ready && (used[j] || !before(j, i));
      if (!ready) continue;
      const Operation& op = ops[i];
      std::optional<Value> next;  // the value after op, if op can go here
      switch (op.kind) {
        case OpKind::write:
          next = op.value;
          break;
        case OpKind::read:
          if (!known(i) || value == op.result) next = value;
          break;
        case OpKind::cas:
          if (!known(i)) {
            next = value == op.expected ? op.value : value;
          } else if ((op.outcome == Outcome::ok) == (value == op.expected)) {
            next = op.outcome == Outcome::ok ? op.value : value;
          }
          break;
        case OpKind::remove:
          if (!known(i) || (op.outcome == Outcome::ok) == value.has_value()) next = kAbsent;
          break;
      }
      if (!next) continue;
      used[i] = true;
      if (extend(*next)) return true;
      used[i] = false;
    }
    return false;
  };
  return extend(kAbsent);
}

}  // namespace

TEST_CASE("linearizability: agrees with brute force on small random histories") {
  // Few values (so they repeat), few clients, every outcome. Half the histories have random
  // results; the other half replay a sequential run at random instants within each call
  // (linearizable), and then half of those get one outcome or result changed at random.
  auto knob = [](const char* name, int otherwise) {
    const char* text = std::getenv(name);
    return text ? std::max(2, std::atoi(text)) : otherwise;
  };
  const int rounds = knob("FOURINONE_LIN_BRUTE_ROUNDS", 20000);
  const int most_ops = knob("FOURINONE_LIN_BRUTE_OPS", 10);
  int agreed_yes = 0;
  int agreed_no = 0;
  for (std::uint64_t seed : seeds(1, rounds)) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    auto below = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
    auto some_value = [&]() -> Value {
      const int v = below(4);
      return v == 0 ? kAbsent : Value(std::string(1, static_cast<char>('a' + v - 1)));
    };
    auto some_outcome = [&](OpKind kind) {
      if (kind == OpKind::cas) return below(2) == 0 ? Outcome::ok : Outcome::failed;
      if (kind == OpKind::remove) return below(2) == 0 ? Outcome::ok : Outcome::not_found;
      return Outcome::ok;
    };
    const bool replay = seed % 2 == 0;
    std::vector<Operation> history;
    std::vector<std::int64_t> points;
    std::vector<bool> happens;
    const int clients = 1 + below(4);
    const int count = 2 + below(most_ops - 1);
    std::vector<std::int64_t> free_at(static_cast<std::size_t>(clients), 0);
    for (int i = 0; i < count; ++i) {
      const auto c = static_cast<std::size_t>(below(clients));
      const std::int64_t call = free_at[c] + below(4);
      const std::int64_t ret = call + below(6);
      free_at[c] = ret + 1;
      const auto kind = static_cast<OpKind>(below(4));
      const std::string letter(1, static_cast<char>('a' + below(3)));
      Operation op = kind == OpKind::read    ? read(c, "x", some_value(), call, ret)
                     : kind == OpKind::write ? write(c, "x", letter, call, ret)
                     : kind == OpKind::cas   ? cas(c, "x", some_value(), letter, call, ret, some_outcome(kind))
                                             : remove(c, "x", call, ret, some_outcome(kind));
      const int fate = below(10);
      if (fate < 2) op = unknown(op);
      if (fate == 2) op.outcome = Outcome::failed_definitely;
      points.push_back(call + below(static_cast<int>(ret - call) + 1));
      const bool known = op.outcome == Outcome::ok || op.outcome == Outcome::failed || op.outcome == Outcome::not_found;
      happens.push_back(known || (op.outcome == Outcome::unknown && below(2) == 0));
      history.push_back(op);
    }
    if (replay) {
      std::vector<std::size_t> order(history.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::shuffle(order.begin(), order.end(), rng);  // random order among equal instants
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return points[a] < points[b]; });
      Value now;
      for (std::size_t i : order) {
        Operation& op = history[i];
        if (!happens[i]) continue;
        const bool known = op.outcome != Outcome::unknown;
        switch (op.kind) {
          case OpKind::read:
            if (known) op.result = now;
            break;
          case OpKind::write:
            now = op.value;
            break;
          case OpKind::cas:
            if (known) op.outcome = now == op.expected ? Outcome::ok : Outcome::failed;
            if (now == op.expected) now = op.value;
            break;
          case OpKind::remove:
            if (known) op.outcome = now ? Outcome::ok : Outcome::not_found;
            now = kAbsent;
            break;
        }
      }
      if (below(2) == 0) {
        Operation& victim = history[static_cast<std::size_t>(below(count))];
        if (victim.outcome != Outcome::unknown && victim.outcome != Outcome::failed_definitely) {
          if (victim.kind == OpKind::read) victim.result = some_value();
          victim.outcome = some_outcome(victim.kind);
        }
      }
    }
    const bool expected = brute_force_linearizable(history);
    const CheckResult r = check(history);
    REQUIRE_MESSAGE(r.verdict == (expected ? Verdict::linearizable : Verdict::not_linearizable), r.explanation,
                    "\n", format_history(history));
    ++(expected ? agreed_yes : agreed_no);
    if (!expected) {
      // The culprit: the history up to its return fails, and up to just before it passes
      // (operations still running there count as unknown, reads among them say nothing).
      REQUIRE(r.culprit);
      const std::int64_t cut = history[*r.culprit].return_time;
      bool tie = false;
      for (std::size_t i = 0; i < history.size(); ++i) {
        tie = tie || (i != *r.culprit && history[i].outcome != Outcome::unknown && history[i].return_time == cut);
      }
      if (!tie) {
        std::vector<Operation> upto, before;
        for (std::size_t i = 0; i < history.size(); ++i) {
          Operation op = history[i];
          if (op.call_time > cut || op.outcome == Outcome::failed_definitely) continue;
          const bool running = op.outcome != Outcome::unknown && op.return_time > cut;
          if (running && op.kind == OpKind::read) continue;
          if (running) op = unknown(op);
          upto.push_back(op);
          if (i == *r.culprit) {
            if (op.kind == OpKind::read) continue;
            op = unknown(op);
          }
          before.push_back(op);
        }
        CHECK_MESSAGE(!brute_force_linearizable(upto), r.explanation, format_history(history), format_history(upto));
        CHECK_MESSAGE(brute_force_linearizable(before), r.explanation);
      }
    }
  }
  MESSAGE("agreed on ", agreed_yes, " linearizable and ", agreed_no, " not linearizable histories");
  if (!std::getenv("FOURINONE_LIN_SEED")) {
    CHECK(agreed_yes > rounds / 4);
    CHECK(agreed_no > rounds / 4);
  }
}

TEST_CASE("linearizability: 2000 operations with many timeouts check fast") {
  // As if partitioned: 15% of calls time out, half of those having taken effect.
  std::chrono::milliseconds slowest_good{0};
  std::chrono::milliseconds slowest_bad{0};
  for (std::uint64_t seed : seeds(99, 3)) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    const Shape shape{.clients = 8, .ops_per_client = 250, .keys = 5, .unknown_percent = 15, .refused_percent = 5};
    const std::vector<Operation> history = generate(rng, shape);
    auto started = std::chrono::steady_clock::now();
    const CheckResult r = check_linearizable(history, std::chrono::seconds(5));
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    REQUIRE_MESSAGE(r.linearizable(), r.explanation);
    CHECK(took < std::chrono::seconds(1));
    slowest_good = std::max(slowest_good, took);

    std::vector<Operation> bad = history;
    const auto victim = random_read(rng, bad);
    REQUIRE(victim);
    bad[*victim].result = "never written";
    started = std::chrono::steady_clock::now();
    rejected(bad, *victim);
    slowest_bad = std::max(slowest_bad, std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - started));
  }
  MESSAGE("2000 operations, 15% unknown: accepted in at most ", slowest_good.count(),
          " ms; with one corrupted read, rejected and explained in at most ", slowest_bad.count(), " ms");
}

TEST_CASE("linearizability: 2000 operations on 5 keys from 8 clients check fast") {
  std::mt19937_64 rng(424242);
  const Shape shape{.clients = 8, .ops_per_client = 250, .keys = 5, .unknown_percent = 3, .refused_percent = 1};
  const std::vector<Operation> history = generate(rng, shape);
  REQUIRE(history.size() == 2000);
  const auto started = std::chrono::steady_clock::now();
  const CheckResult r = check_linearizable(history, std::chrono::seconds(5));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  REQUIRE_MESSAGE(r.linearizable(), r.explanation);
  MESSAGE("2000 operations checked in ", took.count(), " ms: ", r.explanation);
  CHECK(took < std::chrono::seconds(1));

  std::vector<Operation> bad = history;
  const auto victim = random_read(rng, bad);
  REQUIRE(victim);
  bad[*victim].result = "never written";
  const auto started_bad = std::chrono::steady_clock::now();
  rejected(bad, *victim);
  const auto took_bad =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_bad);
  MESSAGE("with one corrupted read: rejected and explained in ", took_bad.count(), " ms");
  CHECK(took_bad < std::chrono::seconds(1));
}
