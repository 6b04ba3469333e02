// Helpers shared by the log storage tests (log_storage_test.cpp, wal_log_test.cpp): fresh
// folders (tests/support TempDir), entry builders, and REQUIRE-checked calls that show the Status when they fail.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "park/log/log_storage.hpp"
#include "tests/support/process.hpp"

namespace log_test {

using fourinone::Errc;
using fourinone::Status;
using fourinone::park::HardState;
using fourinone::park::LmdbOptions;
using fourinone::park::LogEntry;
using fourinone::park::LogStorage;
using fourinone::park::Snapshot;
using fourinone::park::WalOptions;
using fourinone::test::TempDir;

constexpr std::size_t kNoLimit = std::size_t{1} << 40;

inline std::unique_ptr<LogStorage> open_ok(const std::string& dir, LmdbOptions options = {256ull << 20, false}) {
  auto log = open_lmdb_log(dir, options);
  INFO(log.status().to_string());
  REQUIRE(log.ok());
  return std::move(log).value();
}

inline std::string data_for(std::uint64_t index, std::uint64_t term) {
  return "entry " + std::to_string(index) + " of term " + std::to_string(term);
}

// Entries [first, last] of one term, with data naming index and term.
inline std::vector<LogEntry> make_entries(std::uint64_t first, std::uint64_t last, std::uint64_t term) {
  std::vector<LogEntry> out;
  for (std::uint64_t i = first; i <= last; ++i) out.push_back(LogEntry{i, term, data_for(i, term)});
  return out;
}

// append() takes a span, which a braced list cannot become; this takes the list.
inline Status try_append(LogStorage& log, const std::vector<LogEntry>& entries) { return log.append(entries); }

inline void append_ok(LogStorage& log, const std::vector<LogEntry>& entries) {
  Status s = log.append(entries);
  INFO(s.to_string());
  REQUIRE(s.ok());
}

inline void snapshot_ok(LogStorage& log, const Snapshot& snapshot) {
  Status s = log.save_snapshot(snapshot);
  INFO(s.to_string());
  REQUIRE(s.ok());
}

inline std::vector<LogEntry> read_ok(const LogStorage& log, std::uint64_t from, std::uint64_t to,
                              std::size_t max_bytes = kNoLimit) {
  auto r = log.read(from, to, max_bytes);
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  return r.value();
}

inline std::uint64_t term_ok(const LogStorage& log, std::uint64_t index) {
  auto r = log.term(index);
  INFO("index ", index, ": ", r.status().to_string());
  REQUIRE(r.ok());
  return r.value();
}

inline Errc term_error(const LogStorage& log, std::uint64_t index) { return log.term(index).status().code(); }
inline Errc read_error(const LogStorage& log, std::uint64_t from, std::uint64_t to) {
  return log.read(from, to, kNoLimit).status().code();
}

inline bool same_entries(const std::vector<LogEntry>& a, const std::vector<LogEntry>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].index != b[i].index || a[i].term != b[i].term || a[i].data != b[i].data) return false;
  }
  return true;
}

inline std::unique_ptr<LogStorage> open_wal_ok(const std::string& dir, WalOptions options = {512, false}) {
  auto log = fourinone::park::open_wal_log(dir, options);
  INFO(log.status().to_string());
  REQUIRE(log.ok());
  return std::move(log).value();
}

// REQUIREs that `log` holds exactly what `model` holds: bounds, terms, every entry, hard
// state and snapshot.
inline void require_same_log(const LogStorage& log, const LogStorage& model) {
  REQUIRE(log.first_index() == model.first_index());
  REQUIRE(log.last_index() == model.last_index());
  CHECK(log.hard_state().term == model.hard_state().term);
  CHECK(log.hard_state().vote == model.hard_state().vote);
  CHECK(log.hard_state().commit == model.hard_state().commit);
  for (std::uint64_t i = model.first_index() - 1; i <= model.last_index(); ++i) CHECK(term_ok(log, i) == term_ok(model, i));
  if (model.last_index() >= model.first_index()) {
    CHECK(same_entries(read_ok(log, model.first_index(), model.last_index() + 1),
                       read_ok(model, model.first_index(), model.last_index() + 1)));
  }
  auto a = log.snapshot();
  auto b = model.snapshot();
  REQUIRE(a.has_value() == b.has_value());
  if (a) {
    CHECK(a->index == b->index);
    CHECK(a->term == b->term);
    CHECK(a->data == b->data);
  }
}

}  // namespace log_test
