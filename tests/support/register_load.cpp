#include "tests/support/register_load.hpp"

#include <doctest/doctest.h>

#include <random>

namespace fourinone::test {
namespace {

// An error after which a write may or may not have happened.
bool ambiguous(Errc code) {
  return code == Errc::timeout || code == Errc::unavailable || code == Errc::not_leader || code == Errc::cancelled;
}

}  // namespace

RegisterLoad::RegisterLoad(Park& setup) {
  for (int k = 0; k < kKeys; ++k) {
    auto r = setup.create("lin", key(k), "init");
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
    auto t = history_.begin(lin::Operation::write(99, key(k), "init"));
    history_.end(t, lin::Outcome::ok);
  }
}

RegisterLoad::~RegisterLoad() { stop(); }

void RegisterLoad::add_client(const ParkOptions& options) {
  int client = static_cast<int>(clients_.size());
  clients_.emplace_back([this, options, client] { run(options, client); });
}

void RegisterLoad::stop() {
  stop_ = true;
  for (auto& t : clients_) {
    if (t.joinable()) t.join();
  }
}

std::set<std::string> RegisterLoad::acknowledged() const {
  std::lock_guard lock(mutex_);
  return acknowledged_;
}

std::size_t RegisterLoad::lost(const std::vector<Node>& present) const {
  std::set<std::string> names;
  for (const auto& node : present) names.insert(node.name);
  std::size_t lost = 0;
  for (const auto& name : acknowledged()) lost += names.count(name) ? 0 : 1;
  return lost;
}

void RegisterLoad::stop_and_check(Park& park, std::chrono::milliseconds budget) {
  stop();
  auto all = park.list("acked");
  REQUIRE_MESSAGE(all.ok(), all.status().to_string());
  const std::size_t missing = lost(all.value());
  MESSAGE(acknowledged().size() << " acknowledged creates, " << missing << " lost");
  CHECK(missing == 0);
  auto ops = history();
  auto verdict = lin::check_linearizable(ops, budget);
  INFO(verdict.explanation);
  CHECK(verdict.verdict == lin::Verdict::linearizable);
  MESSAGE(ops.size() << " operations checked for linearizability");
}

void RegisterLoad::run(ParkOptions options, int client) {
  auto park = Park::connect(options);
  if (!park.ok()) {
    CHECK_MESSAGE(park.ok(), "load client " << client << ": " << park.status().to_string());
    return;  // not REQUIRE: this is not the test's main thread
  }
  auto& p = *park.value();
  std::mt19937 rng(1000 + static_cast<unsigned>(client));
  int n = 0;
  while (!stop_.load()) {
    std::string k = key(static_cast<int>(rng() % kKeys));
    std::string value = "c" + std::to_string(client) + "-" + std::to_string(++n);
    switch (rng() % 4) {
      case 0: {
        auto token = history_.begin(lin::Operation::read(static_cast<std::uint64_t>(client), k));
        auto r = p.get("lin", k);
        if (r.ok()) history_.end_read(token, r->value);
        else if (r.status().code() == Errc::not_found) history_.end_read(token, std::nullopt);
        else history_.end(token, lin::Outcome::unknown);
        break;
      }
      case 1: {
        auto token = history_.begin(lin::Operation::write(static_cast<std::uint64_t>(client), k, value));
        auto r = p.update("lin", k, value);
        history_.end(token, r.ok() ? lin::Outcome::ok : lin::Outcome::unknown);
        break;
      }
      case 2: {  // compare-and-set: every value is unique, so a version names one value
        auto seen = p.get("lin", k);
        if (!seen.ok()) break;
        auto token = history_.begin(lin::Operation::cas(static_cast<std::uint64_t>(client), k, seen->value, value));
        auto r = p.update("lin", k, value, static_cast<std::int64_t>(seen->version));
        if (r.ok()) history_.end(token, lin::Outcome::ok);
        else if (r.status().code() == Errc::bad_version) history_.end(token, lin::Outcome::failed);
        else history_.end(token, lin::Outcome::unknown);
        break;
      }
      default: {  // a unique node: once acknowledged it must survive everything
        auto r = p.create("acked", value, "x");
        if (r.ok() || r.status().code() == Errc::exists) {  // exists: a retried create that had landed
          std::lock_guard lock(mutex_);
          acknowledged_.insert(value);
          acked_++;
        } else {
          CHECK_MESSAGE(ambiguous(r.status().code()), r.status().to_string());
        }
        break;
      }
    }
  }
}

}  // namespace fourinone::test
