// LogStorage: the same behaviour from the WAL, the LMDB log and the memory log; then what the
// two durable ones do (survive a reopen, agree with the memory log over a random history with
// reopens), and what only LMDB does. WAL-only behaviour is in wal_log_test.cpp.
#include "park/log/log_storage.hpp"

#include <doctest/doctest.h>
#include <lmdb.h>

#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "log_test_util.hpp"

using fourinone::park::make_memory_log;
using fourinone::park::open_lmdb_log;

namespace {

using namespace log_test;  // NOLINT: the shared helpers

using Factory = std::function<std::unique_ptr<LogStorage>()>;

// Runs `body` with a factory for fresh logs of each implementation. The WAL's segments are
// 512 bytes, so that most tests also cross segment boundaries.
void for_each_implementation(const std::function<void(const Factory&)>& body) {
  SUBCASE("memory log") { body([] { return make_memory_log(); }); }
  SUBCASE("LMDB log") {
    TempDir dir;
    body([&dir] { return open_ok(dir.path()); });
  }
  SUBCASE("WAL") {
    TempDir dir;
    int n = 0;
    body([&dir, &n] { return open_wal_ok(dir.path() + "/" + std::to_string(n++)); });
  }
}

// The durable implementations, each opened (and reopened) from a folder.
using Opener = std::function<std::unique_ptr<LogStorage>(const std::string& dir, bool sync)>;
void for_each_durable(const std::function<void(const Opener&)>& body) {
  SUBCASE("LMDB log") {
    body([](const std::string& dir, bool sync) { return open_ok(dir, LmdbOptions{64ull << 20, sync}); });
  }
  SUBCASE("WAL") {
    body([](const std::string& dir, bool sync) { return open_wal_ok(dir, WalOptions{sync ? 64ull << 20 : 700, sync}); });
  }
}

}  // namespace

TEST_CASE("an empty log has first index 1, last index 0, term 0 at index 0 and nothing to read") {
  for_each_implementation([](const Factory& make) {
    auto log = make();
    CHECK(log->first_index() == 1);
    CHECK(log->last_index() == 0);
    CHECK(term_ok(*log, 0) == 0);
    CHECK(term_error(*log, 1) == Errc::not_found);
    CHECK(read_error(*log, 1, 2) == Errc::not_found);
    CHECK(read_error(*log, 0, 2) == Errc::not_found);
    CHECK_FALSE(log->snapshot().has_value());
    CHECK(log->append({}).ok());
    CHECK(log->last_index() == 0);
  });
}

TEST_CASE("appended entries read back with their terms and data") {
  for_each_implementation([](const Factory& make) {
    auto log = make();
    std::vector<LogEntry> all = make_entries(1, 2, 1);
    for (auto& e : make_entries(3, 4, 2)) all.push_back(e);
    append_ok(*log, all);
    auto more = make_entries(5, 5, 3);
    append_ok(*log, more);
    all.push_back(more[0]);

    CHECK(log->first_index() == 1);
    CHECK(log->last_index() == 5);
    CHECK(same_entries(read_ok(*log, 1, 6), all));
    CHECK(same_entries(read_ok(*log, 2, 4), {all[1], all[2]}));
    CHECK(same_entries(read_ok(*log, 4, 100), {all[3], all[4]}));  // `to` past the end is clamped
    CHECK(term_ok(*log, 1) == 1);
    CHECK(term_ok(*log, 3) == 2);
    CHECK(term_ok(*log, 5) == 3);
    CHECK(term_error(*log, 6) == Errc::not_found);
    CHECK(read_error(*log, 6, 7) == Errc::not_found);
    CHECK(read_error(*log, 3, 3) == Errc::bad_request);
  });
}

TEST_CASE("an entry with empty data round-trips") {
  for_each_implementation([](const Factory& make) {
    auto log = make();
    append_ok(*log, {LogEntry{1, 4, ""}});
    auto got = read_ok(*log, 1, 2);
    REQUIRE(got.size() == 1);
    CHECK(got[0].data.empty());
    CHECK(got[0].term == 4);
  });
}

TEST_CASE("read stops before max_bytes is passed but always returns at least one entry") {
  for_each_implementation([](const Factory& make) {
    auto log = make();
    std::vector<LogEntry> entries;
    for (std::uint64_t i = 1; i <= 10; ++i) entries.push_back(LogEntry{i, 1, std::string(100, 'a')});
    append_ok(*log, entries);
    const std::size_t one = 100 + 16;  // data plus index and term
    CHECK(read_ok(*log, 1, 11, 0).size() == 1);
    CHECK(read_ok(*log, 1, 11, one).size() == 1);
    CHECK(read_ok(*log, 1, 11, 2 * one - 1).size() == 1);
    CHECK(read_ok(*log, 1, 11, 2 * one).size() == 2);
    CHECK(read_ok(*log, 3, 11, 5 * one + 7).size() == 5);
    CHECK(read_ok(*log, 3, 6, 5 * one).size() == 3);  // `to` still bounds it
    CHECK(read_ok(*log, 1, 11, kNoLimit).size() == 10);
  });
}

TEST_CASE("a conflicting append truncates the old suffix from its first index") {
  for_each_implementation([](const Factory& make) {
    auto log = make();
    append_ok(*log, make_entries(1, 5, 1));
    append_ok(*log, make_entries(3, 4, 2));
    CHECK(log->last_index() == 4);
    CHECK(term_ok(*log, 2) == 1);
    CHECK(term_ok(*log, 3) == 2);
    CHECK(term_ok(*log, 4) == 2);
    CHECK(term_error(*log, 5) == Errc::not_found);
    auto expected = make_entries(1, 2, 1);
    for (auto& e : make_entries(3, 4, 2)) expected.push_back(e);
    CHECK(same_entries(read_ok(*log, 1, 10), expected));

    append_ok(*log, make_entries(1, 1, 3));  // replaces everything
    CHECK(log->last_index() == 1);
    CHECK(same_entries(read_ok(*log, 1, 10), make_entries(1, 1, 3)));
  });
}

TEST_CASE("an append with a gap or non-contiguous entries is rejected and changes nothing") {
  for_each_implementation([](const Factory& make) {
    auto log = make();
    append_ok(*log, make_entries(1, 3, 1));
    CHECK(log->append(make_entries(5, 6, 1)).code() == Errc::bad_request);
    CHECK(try_append(*log, {LogEntry{4, 1, "a"}, LogEntry{6, 1, "b"}}).code() == Errc::bad_request);
    CHECK(try_append(*log, {LogEntry{2, 2, "a"}, LogEntry{2, 2, "b"}}).code() == Errc::bad_request);
    CHECK(try_append(*log, {LogEntry{0, 1, "zero"}}).code() == Errc::bad_request);
    CHECK(log->last_index() == 3);
    CHECK(same_entries(read_ok(*log, 1, 10), make_entries(1, 3, 1)));
    // A refused request is not an I/O failure: the log still takes writes.
    append_ok(*log, make_entries(4, 4, 1));
    CHECK(log->last_index() == 4);
  });
}

TEST_CASE("a snapshot compacts the log prefix up to its index and keeps the rest") {
  for_each_implementation([](const Factory& make) {
    auto log = make();
    append_ok(*log, make_entries(1, 10, 1));
    snapshot_ok(*log, Snapshot{5, 1, "state at 5"});
    CHECK(log->first_index() == 6);
    CHECK(log->last_index() == 10);
    CHECK(term_ok(*log, 5) == 1);  // the snapshot's term
    CHECK(term_error(*log, 4) == Errc::not_found);
    CHECK(term_error(*log, 0) == Errc::not_found);
    CHECK(read_error(*log, 5, 11) == Errc::not_found);
    CHECK(same_entries(read_ok(*log, 6, 11), make_entries(6, 10, 1)));
    auto snap = log->snapshot();
    REQUIRE(snap.has_value());
    CHECK(snap->index == 5);
    CHECK(snap->term == 1);
    CHECK(snap->data == "state at 5");

    // Appends go on after the snapshot; none may land at or below it.
    append_ok(*log, make_entries(11, 11, 1));
    CHECK(log->append(make_entries(5, 6, 2)).code() == Errc::bad_request);
    // A conflict right after the snapshot truncates the whole remaining log.
    append_ok(*log, make_entries(6, 6, 2));
    CHECK(log->last_index() == 6);
    CHECK(log->first_index() == 6);
    // An older snapshot is refused; the same index again replaces the data.
    CHECK(log->save_snapshot(Snapshot{3, 1, "old"}).code() == Errc::bad_request);
    snapshot_ok(*log, Snapshot{5, 1, "state at 5, again"});
    CHECK(log->snapshot()->data == "state at 5, again");
    CHECK(log->last_index() == 6);
  });
}

TEST_CASE("a snapshot at or beyond the last index empties the log") {
  for_each_implementation([](const Factory& make) {
    auto log = make();
    append_ok(*log, make_entries(1, 3, 1));
    snapshot_ok(*log, Snapshot{3, 1, "at 3"});
    CHECK(log->first_index() == 4);
    CHECK(log->last_index() == 3);
    CHECK(term_ok(*log, 3) == 1);
    CHECK(read_error(*log, 3, 4) == Errc::not_found);
    CHECK(read_error(*log, 4, 5) == Errc::not_found);

    snapshot_ok(*log, Snapshot{7, 2, "at 7"});  // e.g. installed from the leader
    CHECK(log->first_index() == 8);
    CHECK(log->last_index() == 7);
    CHECK(term_ok(*log, 7) == 2);
    CHECK(term_error(*log, 3) == Errc::not_found);
    CHECK(log->append(make_entries(9, 9, 2)).code() == Errc::bad_request);
    append_ok(*log, make_entries(8, 9, 2));
    CHECK(same_entries(read_ok(*log, 8, 10), make_entries(8, 9, 2)));
  });
}

TEST_CASE("a snapshot whose term disagrees with the log at its index drops the whole log") {
  // Raft §7: entries after a snapshot survive only if the log matches it at its index.
  for_each_implementation([](const Factory& make) {
    auto log = make();
    append_ok(*log, make_entries(1, 6, 1));
    snapshot_ok(*log, Snapshot{4, 2, "from a leader of term 2"});
    CHECK(log->first_index() == 5);
    CHECK(log->last_index() == 4);
    CHECK(term_ok(*log, 4) == 2);
    CHECK(term_error(*log, 5) == Errc::not_found);
  });
}

TEST_CASE("the hard state reads back as it was saved") {
  for_each_implementation([](const Factory& make) {
    auto log = make();
    HardState empty = log->hard_state();
    CHECK(empty.term == 0);
    CHECK(empty.vote == 0);
    CHECK(empty.commit == 0);
    REQUIRE(log->save_hard_state(HardState{7, 3, 42}).ok());
    REQUIRE(log->save_hard_state(HardState{8, 0, 0xffff'ffff'ffffull << 16}).ok());
    HardState got = log->hard_state();
    CHECK(got.term == 8);
    CHECK(got.vote == 0);
    CHECK(got.commit == 0xffff'ffff'ffffull << 16);
  });
}

TEST_CASE("write() saves the hard state and appends entries together, or changes nothing") {
  for_each_implementation([](const Factory& make) {
    auto log = make();
    REQUIRE(log->write(HardState{2, 1, 0}, make_entries(1, 3, 2)).ok());
    CHECK(log->last_index() == 3);
    CHECK(log->hard_state().term == 2);
    CHECK(log->hard_state().vote == 1);

    REQUIRE(log->write(std::nullopt, make_entries(4, 4, 2)).ok());  // entries alone
    CHECK(log->last_index() == 4);
    CHECK(log->hard_state().term == 2);
    REQUIRE(log->write(HardState{3, 0, 4}, {}).ok());  // hard state alone
    CHECK(log->hard_state().commit == 4);
    CHECK(log->last_index() == 4);

    // A gap is refused, and the hard state of the same write is not saved either.
    CHECK(log->write(HardState{9, 9, 9}, make_entries(7, 8, 3)).code() == Errc::bad_request);
    CHECK(log->hard_state().term == 3);
    CHECK(log->last_index() == 4);

    // A conflicting suffix is replaced in the same transaction as a new term.
    REQUIRE(log->write(HardState{4, 2, 4}, make_entries(3, 5, 4)).ok());
    CHECK(log->last_index() == 5);
    CHECK(log->term(2).value() == 2);
    CHECK(log->term(3).value() == 4);
    CHECK(log->hard_state().term == 4);
  });
}

TEST_CASE("the durable logs and the memory log agree over a random history of writes and reopens") {
  // Property test: the memory log is the model. The durable log is reopened now and then.
  for_each_durable([](const Opener& open) {
  TempDir dir;
  auto lmdb = open(dir.path(), false);
  auto model = make_memory_log();
  std::mt19937_64 rng(20240611);
  auto below = [&rng](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
  std::uint64_t term = 1;
  int truncations = 0, refused = 0, compactions = 0, wipes = 0, reopens = 0;  // coverage of the run
  for (int step = 0; step < 400; ++step) {
    INFO("step ", step);
    const std::uint64_t op = below(100);
    if (op < 60) {
      // Append, sometimes overwriting a suffix; rarely with a gap (refused by both).
      std::uint64_t first = model->last_index() + 1;
      if (below(3) == 0) first = model->first_index() + below(first - model->first_index() + 1);
      if (below(20) == 0) first = model->last_index() + 2;
      if (below(4) == 0) ++term;
      std::vector<LogEntry> entries;
      const std::uint64_t count = 1 + below(8);
      for (std::uint64_t i = 0; i < count; ++i) {
        entries.push_back(LogEntry{first + i, term, std::string(below(300), static_cast<char>('a' + below(26)))});
      }
      const bool truncates = first <= model->last_index();
      Status s = model->append(entries);
      CHECK(lmdb->append(entries).code() == s.code());
      truncations += s.ok() && truncates;
      refused += !s.ok();
    } else if (op < 70) {
      // A snapshot in the log (matching term), past it, or mismatching.
      std::uint64_t index = model->first_index() - 1 + below(model->last_index() - model->first_index() + 4);
      std::uint64_t t = model->term(index).value_or(term);
      if (below(5) == 0) t += 1;
      Snapshot snap{index, t, "state " + std::to_string(step)};
      Status s = model->save_snapshot(snap);
      CHECK(lmdb->save_snapshot(snap).code() == s.code());
      compactions += s.ok() && model->last_index() > index;
      wipes += s.ok() && model->last_index() == index;
    } else if (op < 80) {
      HardState hs{term, below(5), below(model->last_index() + 1)};
      CHECK(lmdb->save_hard_state(hs).ok());
      CHECK(model->save_hard_state(hs).ok());
    } else if (op < 85) {
      lmdb.reset();
      lmdb = open(dir.path(), false);
      ++reopens;
    }
    REQUIRE(lmdb->first_index() == model->first_index());
    REQUIRE(lmdb->last_index() == model->last_index());
    CHECK(lmdb->hard_state().term == model->hard_state().term);
    CHECK(lmdb->hard_state().vote == model->hard_state().vote);
    CHECK(lmdb->hard_state().commit == model->hard_state().commit);
    for (std::uint64_t i = model->first_index() - 1; i <= model->last_index(); ++i) {
      CHECK(term_ok(*lmdb, i) == term_ok(*model, i));
    }
    if (model->last_index() >= model->first_index()) {
      std::uint64_t from = model->first_index() + below(model->last_index() - model->first_index() + 1);
      std::size_t max_bytes = below(2000);
      CHECK(same_entries(read_ok(*lmdb, from, from + 20, max_bytes), read_ok(*model, from, from + 20, max_bytes)));
    }
    auto a = lmdb->snapshot();
    auto b = model->snapshot();
    REQUIRE(a.has_value() == b.has_value());
    if (a) {
      CHECK(a->index == b->index);
      CHECK(a->term == b->term);
      CHECK(a->data == b->data);
    }
  }
  INFO("truncations ", truncations, ", refused ", refused, ", compactions ", compactions, ", wipes ", wipes,
          ", reopens ", reopens);
  CHECK(truncations >= 10);
  CHECK(refused >= 3);
  CHECK(compactions >= 5);
  CHECK(wipes >= 3);
  CHECK(reopens >= 5);
  require_same_log(*lmdb, *model);
  });
}

TEST_CASE("a durable log keeps its entries, hard state, snapshot and bounds across close and reopen") {
  for_each_durable([](const Opener& open) {
  for (bool sync : {true, false}) {
    INFO("sync ", sync);
    TempDir dir;
    const std::string path = dir.path() + "/nested/data";  // parents are created
    {
      auto log = open(path, sync);
      append_ok(*log, make_entries(1, 20, 1));
      append_ok(*log, make_entries(15, 25, 2));  // truncates 15..20
      snapshot_ok(*log, Snapshot{10, 1, "state at 10"});
      REQUIRE(log->save_hard_state(HardState{2, 1, 24}).ok());
    }
    for (int round = 0; round < 2; ++round) {
      auto log = open(path, sync);
      CHECK(log->first_index() == 11);
      CHECK(log->last_index() == 25);
      CHECK(term_ok(*log, 10) == 1);
      CHECK(term_ok(*log, 14) == 1);
      CHECK(term_ok(*log, 15) == 2);
      CHECK(term_ok(*log, 25) == 2);
      auto expected = make_entries(11, 14, 1);
      for (auto& e : make_entries(15, 25, 2)) expected.push_back(e);
      CHECK(same_entries(read_ok(*log, 11, 26), expected));
      CHECK(log->hard_state().term == 2);
      CHECK(log->hard_state().vote == 1);
      CHECK(log->hard_state().commit == 24);
      auto snap = log->snapshot();
      REQUIRE(snap.has_value());
      CHECK(snap->index == 10);
      CHECK(snap->term == 1);
      CHECK(snap->data == "state at 10");
    }
    {
      // A snapshot past the end, then reopen: an empty log that starts after it.
      auto log = open(path, sync);
      snapshot_ok(*log, Snapshot{40, 3, "state at 40"});
    }
    auto log = open(path, sync);
    CHECK(log->first_index() == 41);
    CHECK(log->last_index() == 40);
    CHECK(term_ok(*log, 40) == 3);
    append_ok(*log, make_entries(41, 41, 3));
  }
  });
}

TEST_CASE("a 20 MiB entry and a 20 MiB snapshot round-trip through a durable log") {
  for_each_durable([](const Opener& open) {
  TempDir dir;
  std::string big(20u << 20, '\0');
  std::mt19937_64 rng(7);
  for (auto& c : big) c = static_cast<char>(rng());
  {
    auto log = open(dir.path(), true);
    append_ok(*log, {LogEntry{1, 1, "small"}, LogEntry{2, 1, big}, LogEntry{3, 1, "after"}});
    snapshot_ok(*log, Snapshot{1, 1, big});
    auto got = read_ok(*log, 2, 3);
    REQUIRE(got.size() == 1);
    CHECK(got[0].data == big);
  }
  auto log = open(dir.path(), true);
  auto got = read_ok(*log, 2, 4, 1);  // one entry though it is far above max_bytes
  REQUIRE(got.size() == 1);
  CHECK(got[0].data == big);
  CHECK(read_ok(*log, 2, 4).size() == 2);
  CHECK(log->snapshot()->data == big);
  });
}

TEST_CASE("after a failed LMDB write the log refuses every later write, while reads go on") {
  TempDir dir;
  auto log = open_ok(dir.path(), LmdbOptions{1u << 20, true});  // a 1 MiB map fills quickly
  const std::string chunk(64u << 10, 'x');
  Status failure;
  std::uint64_t index = 0;
  for (int i = 0; i < 64 && failure.ok(); ++i) {
    Status s = try_append(*log, {LogEntry{index + 1, 1, chunk}});
    if (s.ok()) {
      ++index;
    } else {
      failure = s;
    }
  }
  INFO(failure.to_string());
  REQUIRE_FALSE(failure.ok());
  CHECK(failure.code() == Errc::internal);
  CHECK(failure.message().find("map_size") != std::string::npos);
  CHECK(failure.message().find(dir.path()) != std::string::npos);
  REQUIRE(index > 0);
  CHECK(log->last_index() == index);  // the failed batch left nothing behind

  Status again = try_append(*log, {LogEntry{index + 1, 1, "tiny"}});
  CHECK(again.code() == Errc::internal);
  CHECK(again.message().rfind("storage failed earlier: ", 0) == 0);
  CHECK(log->save_hard_state(HardState{1, 1, 1}).code() == Errc::internal);
  CHECK(log->save_snapshot(Snapshot{1, 1, "s"}).code() == Errc::internal);
  CHECK(log->last_index() == index);
  CHECK(log->hard_state().term == 0);

  auto got = read_ok(*log, 1, index + 1);
  CHECK(got.size() == index);
  CHECK(got.front().data == chunk);
  CHECK(term_ok(*log, index) == 1);

  // Reopening with a bigger map shows every acknowledged entry and takes writes again.
  log.reset();
  log = open_ok(dir.path(), LmdbOptions{64u << 20, true});
  CHECK(log->last_index() == index);
  CHECK(read_ok(*log, index, index + 1).front().data == chunk);
  append_ok(*log, {LogEntry{index + 1, 1, "tiny"}});
}

TEST_CASE("opening an LMDB log where no directory can be made fails with internal naming the path") {
  TempDir dir;
  std::filesystem::create_directories(dir.path());
  const std::string file = dir.path() + "/plain-file";
  { std::FILE* f = std::fopen(file.c_str(), "w"); REQUIRE(f != nullptr); std::fclose(f); }
  auto log = open_lmdb_log(file + "/log");
  REQUIRE_FALSE(log.ok());
  CHECK(log.status().code() == Errc::internal);
  CHECK(log.status().message().find(file) != std::string::npos);
}

TEST_CASE("an LMDB log with a hole in its entries refuses to open as corrupt") {
  TempDir dir;
  {
    auto log = open_ok(dir.path());
    append_ok(*log, make_entries(1, 5, 1));
  }
  // Delete entry 3 behind the log's back (key: 8-byte big-endian index, see README.md).
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_maxdbs(env, 4) == 0);
  REQUIRE(mdb_env_open(env, dir.path().c_str(), 0, 0600) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi dbi;
  REQUIRE(mdb_dbi_open(txn, "log", 0, &dbi) == 0);
  char key_bytes[8] = {0, 0, 0, 0, 0, 0, 0, 3};
  MDB_val key{sizeof key_bytes, key_bytes};
  REQUIRE(mdb_del(txn, dbi, &key, nullptr) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);

  auto log = open_lmdb_log(dir.path(), LmdbOptions{256ull << 20, false});
  REQUIRE_FALSE(log.ok());
  CHECK(log.status().code() == Errc::internal);
  CHECK(log.status().message().find("corrupt") != std::string::npos);
}
