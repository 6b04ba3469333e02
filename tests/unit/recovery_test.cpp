// Recovery (park/server/recovery.hpp): a restart rebuilds the store from the snapshot and the
// committed entries, hands the core every entry after the snapshot, and reads the log once
// (the WAL hands over what opening it read).
#include "park/server/recovery.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/wire_archive.hpp"
#include "log_test_util.hpp"
#include "park/store/serialize.hpp"

using namespace fourinone;
using namespace fourinone::park;
using namespace log_test;  // NOLINT: the shared helpers

namespace {

std::string create_command(const std::string& node, const std::string& value) {
  Command c;
  Op op;
  op.kind = OpKind::create;
  op.domain = "d";
  op.node = node;
  op.value = value;
  c.ops.push_back(op);
  return core::encode(c);
}

// A WAL with a snapshot holding node "a", then entries 3 (noop), 4 (creates b), 5 (creates c);
// committed up to 4.
void write_history(const std::string& dir) {
  auto log = open_wal_ok(dir);
  Store store;
  Command c;
  REQUIRE(core::decode(create_command("a", "1"), c, "test").ok());
  store.apply(c);
  REQUIRE(log->write(HardState{1, 1, 0}, std::vector<LogEntry>{{1, 1, create_command("a", "1")}, {2, 1, ""}}).ok());
  REQUIRE(log->save_snapshot(Snapshot{2, 1, store.save()}).ok());
  REQUIRE(log->write(HardState{2, 1, 4},
                     std::vector<LogEntry>{{3, 2, ""}, {4, 2, create_command("b", "2")}, {5, 2, create_command("c", "3")}})
              .ok());
}

}  // namespace

TEST_CASE("recovery applies the snapshot and the committed entries, and gives the core every entry after the snapshot") {
  TempDir dir;
  write_history(dir.path());
  auto log = open_wal_ok(dir.path());
  auto recovered = recover(*log, StoreLimits{});
  REQUIRE(recovered.ok());
  const Store& store = recovered->store;
  CHECK(store.find("d", "a") != nullptr);
  CHECK(store.find("d", "b") != nullptr);
  CHECK(store.find("d", "c") == nullptr);  // not committed: the group decides about it
  const raft::Restore& restore = recovered->restore;
  CHECK(restore.applied == 4);
  REQUIRE(restore.snapshot.has_value());
  CHECK(restore.snapshot->index == 2);
  REQUIRE(restore.entries.size() == 3);
  CHECK(restore.entries[0].index == 3);
  CHECK(restore.entries[0].type == raft::EntryType::noop);
  CHECK(restore.entries[2].index == 5);
  CHECK(restore.entries[2].data == create_command("c", "3"));
  CHECK(restore.hard_state.term == 2);
  CHECK(restore.hard_state.commit == 4);
}

TEST_CASE("the WAL hands over the entries it read when opened, once, as read() would return them") {
  TempDir dir;
  write_history(dir.path());
  {
    // A conflicting suffix written later replaces the old one in what is handed over too.
    auto log = open_wal_ok(dir.path());
    REQUIRE(log->write(std::nullopt, std::vector<LogEntry>{{5, 3, create_command("e", "5")}}).ok());
  }
  auto log = open_wal_ok(dir.path());
  auto opened = log->take_opened_entries();
  auto read = log->read(log->first_index(), log->last_index() + 1, 1u << 20);
  REQUIRE(read.ok());
  REQUIRE(opened.size() == read->size());
  for (std::size_t i = 0; i < opened.size(); ++i) {
    CHECK(opened[i].index == (*read)[i].index);
    CHECK(opened[i].term == (*read)[i].term);
    CHECK(opened[i].data == (*read)[i].data);
  }
  CHECK(opened.back().term == 3);
  CHECK(log->take_opened_entries().empty());  // handed over once

  // A storage that keeps none (the memory log) is read instead; the result is the same.
  auto memory = make_memory_log();
  std::vector<LogEntry> all{{1, 1, create_command("a", "1")}, {2, 1, ""}};
  all.insert(all.end(), read->begin(), read->end());
  REQUIRE(memory->write(HardState{3, 1, 5}, all).ok());
  auto from_memory = recover(*memory, StoreLimits{});
  REQUIRE(from_memory.ok());
  CHECK(from_memory->restore.entries.size() == 5);
  CHECK(from_memory->restore.applied == 5);
  CHECK(from_memory->store.find("d", "a") != nullptr);
  CHECK(from_memory->store.find("d", "e") != nullptr);
}

TEST_CASE("recovery refuses a committed entry that does not decode, naming its index") {
  TempDir dir;
  {
    auto log = open_wal_ok(dir.path());
    REQUIRE(log->write(HardState{1, 1, 1}, std::vector<LogEntry>{{1, 1, "not a command"}}).ok());
  }
  auto log = open_wal_ok(dir.path());
  auto recovered = recover(*log, StoreLimits{});
  REQUIRE_FALSE(recovered.ok());
  CHECK(recovered.status().code() == Errc::internal);
  CHECK(recovered.status().message().find("log entry 1") != std::string::npos);
}
