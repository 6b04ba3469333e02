// The WAL log's own behaviour: its files, and what it does with the damage a crash (or a
// disk) can leave: torn tails, blank segments, leftovers of a snapshot switch, missing or
// foreign segments, a failing write. The shared LogStorage behaviour is in log_storage_test.cpp.
#include <doctest/doctest.h>

#include <cstring>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "log_test_util.hpp"
#include "park/log/crc32c.hpp"
#include "park/log/snapshot_store.hpp"

using namespace log_test;  // NOLINT: the shared helpers
using fourinone::park::crc32c;
using fourinone::park::open_wal_log;
using fourinone::park::SnapshotStore;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> segments(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& item : fs::directory_iterator(dir + "/wal")) {
    if (item.path().extension() == ".wal") out.push_back(item.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// The offset just past the last non-zero byte: where the records of a segment end.
std::size_t end_of_data(const std::string& bytes) {
  auto last = bytes.find_last_not_of('\0');
  REQUIRE(last != std::string::npos);
  return last + 1;
}

constexpr WalOptions kSmall{4096, false};

}  // namespace

TEST_CASE("crc32c gives the standard check value") {
  CHECK(crc32c("123456789") == 0xE3069283u);
  CHECK(crc32c("") == 0u);
  CHECK(crc32c("56789", crc32c("1234")) == 0xE3069283u);  // continues across pieces
  std::string long_text(1000, 'x');
  CHECK(crc32c(long_text) != crc32c(long_text.substr(1)));
}

TEST_CASE("crc32c: the CPU instruction and the tables agree on every length and starting value") {
  CHECK(fourinone::park::crc32c_tables("123456789") == 0xE3069283u);
  auto hardware = fourinone::park::crc32c_hardware();
  if (!hardware) {
    MESSAGE("no crc32 instruction on this CPU: only the tables are in use");
    return;
  }
  std::string bytes;
  std::uint32_t x = 12345;
  for (int i = 0; i < 300; ++i) bytes.push_back(static_cast<char>((x = x * 1103515245u + 12345u) >> 24));
  for (std::size_t len = 0; len <= bytes.size(); ++len) {
    // Unaligned starts too: the word loads must not care.
    for (std::size_t at : {std::size_t{0}, std::size_t{3}}) {
      if (at > len) continue;
      const std::string_view piece = std::string_view(bytes).substr(at, len - at);
      REQUIRE(hardware(piece, 0) == fourinone::park::crc32c_tables(piece, 0));
      REQUIRE(hardware(piece, 0xDEADBEEF) == fourinone::park::crc32c_tables(piece, 0xDEADBEEF));
    }
  }
  CHECK(hardware("123456789", 0) == 0xE3069283u);
}

TEST_CASE("a WAL keeps segments under wal/, snapshots under snapshots/, and a zero-filled spare once a segment is half full") {
  TempDir dir;
  {
    auto log = open_wal_ok(dir.path(), WalOptions{1 << 20, true});
    append_ok(*log, make_entries(1, 3, 1));
    snapshot_ok(*log, Snapshot{2, 1, "state"});
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK_FALSE(fs::exists(dir.path() + "/wal/spare"));  // a quiet log makes no spare
    append_ok(*log, {LogEntry{4, 1, std::string(600 * 1024, 'x')}});
    // The spare is made by a background thread; give it a moment.
    for (int i = 0; i < 200 && !fs::exists(dir.path() + "/wal/spare"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(fs::exists(dir.path() + "/wal/spare"));
    CHECK(fs::file_size(dir.path() + "/wal/spare") == (1u << 20));
  }
  auto files = segments(dir.path());
  REQUIRE(files.size() == 1);  // the snapshot started a new chain; the old segment is gone
  CHECK(files[0].filename() == "00000000000000000002.wal");
  CHECK(fs::file_size(files[0]) == (1u << 20));
  CHECK(fs::exists(dir.path() + "/snapshots/data.mdb"));
}

TEST_CASE("a torn record at the end of the last segment is cut off at open, and the log goes on from there") {
  TempDir dir;
  {
    auto log = open_wal_ok(dir.path(), kSmall);
    append_ok(*log, make_entries(1, 5, 1));
  }
  // A crash in the middle of writing entry 5: its last byte never reached the disk.
  auto file = segments(dir.path()).back();
  std::string bytes = read_file(file);
  const std::size_t end = end_of_data(bytes);
  bytes[end - 1] = '\0';
  write_file(file, bytes);
  {
    auto log = open_wal_ok(dir.path(), kSmall);
    CHECK(log->last_index() == 4);
    CHECK(same_entries(read_ok(*log, 1, 5), make_entries(1, 4, 1)));
    append_ok(*log, {LogEntry{5, 2, "x"}});  // shorter than the torn record
  }
  // The torn bytes were zeroed: nothing of the old entry 5 comes back behind the new one.
  auto log = open_wal_ok(dir.path(), kSmall);
  CHECK(log->last_index() == 5);
  CHECK(read_ok(*log, 5, 6).front().data == "x");
  CHECK(term_ok(*log, 5) == 2);
  CHECK(read_file(file).find(data_for(5, 1)) == std::string::npos);
}

TEST_CASE("a record whose length runs past the end of the segment is a torn tail too") {
  TempDir dir;
  {
    auto log = open_wal_ok(dir.path(), kSmall);
    append_ok(*log, make_entries(1, 3, 1));
  }
  auto file = segments(dir.path()).back();
  std::string bytes = read_file(file);
  const std::size_t end = end_of_data(bytes);
  const std::string huge_header = {'\xff', '\xff', '\x00', '\x00', '\x01', '\x02', '\x03', '\x04'};
  bytes.replace(end, huge_header.size(), huge_header);
  write_file(file, bytes);
  auto log = open_wal_ok(dir.path(), kSmall);
  CHECK(log->last_index() == 3);
  append_ok(*log, make_entries(4, 4, 1));
  CHECK(same_entries(read_ok(*log, 1, 5), make_entries(1, 4, 1)));
}

TEST_CASE("damage before the last segment fails the open as corrupt, naming the segment") {
  TempDir dir;
  {
    auto log = open_wal_ok(dir.path(), WalOptions{512, false});
    for (std::uint64_t i = 1; i <= 40; ++i) append_ok(*log, make_entries(i, i, 1));
  }
  auto files = segments(dir.path());
  REQUIRE(files.size() >= 3);
  std::string bytes = read_file(files[0]);
  bytes[end_of_data(bytes) - 1] ^= 0x5a;
  write_file(files[0], bytes);
  auto log = open_wal_log(dir.path(), WalOptions{512, false});
  REQUIRE_FALSE(log.ok());
  CHECK(log.status().code() == Errc::internal);
  CHECK(log.status().message().find("corrupt") != std::string::npos);
  CHECK(log.status().message().find(files[0].filename().string()) != std::string::npos);
}

namespace {

// Where each record of a segment starts, read from its length fields.
std::vector<std::size_t> record_offsets(const std::string& bytes) {
  std::vector<std::size_t> out;
  std::size_t at = 16;  // the segment header
  while (at + 8 <= bytes.size()) {
    std::uint32_t length = 0;
    std::memcpy(&length, bytes.data() + at, 4);  // little-endian, as the WAL writes it
    if (length == 0) break;
    out.push_back(at);
    at += 8 + length;
  }
  return out;
}

}  // namespace

// A bit the disk flipped is not a torn write: a torn write ends the data, so a damaged record
// with a valid one behind it must stop the open, whatever byte of it changed (its length, its
// CRC, its type, index, term or data). Only the final record, which a crash may have cut
// short, is dropped. Every record of a segment, several bytes and bits each.
TEST_CASE("a flipped bit in any record but the last fails the open naming segment and offset; in the last record it is a torn tail") {
  TempDir dir;
  {
    auto log = open_wal_ok(dir.path(), WalOptions{1 << 16, false});
    for (std::uint64_t i = 1; i <= 24; ++i) {
      append_ok(*log, make_entries(i, i, 1));
      if (i % 6 == 3) REQUIRE(log->save_hard_state(HardState{1, 2, i - 1}).ok());
    }
  }
  const auto file = segments(dir.path()).back();
  const std::string original = read_file(file);
  const auto records = record_offsets(original);
  REQUIRE(records.size() == 2 + 24 + 4);  // start, state, the entries and four states
  int trials = 0;
  for (std::size_t r = 0; r < records.size(); ++r) {
    const std::size_t begin = records[r];
    const std::size_t end = r + 1 < records.size() ? records[r + 1] : end_of_data(original);
    // The length's bytes, the CRC's, the type, and bytes spread over the rest of the body.
    std::vector<std::size_t> offsets = {begin, begin + 1, begin + 2, begin + 4, begin + 7, begin + 8};
    for (std::size_t at = begin + 9; at < end; at += std::max<std::size_t>(1, (end - begin) / 5)) offsets.push_back(at);
    for (std::size_t k = 0; k < offsets.size(); ++k) {
      std::string bytes = original;
      const int bit = static_cast<int>((r + k) % 8);
      bytes[offsets[k]] = static_cast<char>(bytes[offsets[k]] ^ (1 << bit));
      write_file(file, bytes);
      auto log = open_wal_log(dir.path(), WalOptions{1 << 16, false});
      const std::string trial = "record " + std::to_string(r) + " at " + std::to_string(begin) + ", byte " +
                                std::to_string(offsets[k]) + " bit " + std::to_string(bit);
      if (r + 1 < records.size()) {
        REQUIRE_MESSAGE(!log.ok(), trial << ": opened with " << log.value()->last_index() << " entries");
        CHECK_MESSAGE(log.status().code() == Errc::internal, trial);
        const std::string& message = log.status().message();
        CHECK_MESSAGE(message.find("corrupt") != std::string::npos, trial << ": " << message);
        CHECK_MESSAGE(message.find(file.filename().string() + " at offset " + std::to_string(begin)) != std::string::npos,
                      trial << ": " << message);
      } else {
        REQUIRE_MESSAGE(log.ok(), trial << ": " << log.status().to_string());
        CHECK_MESSAGE(log.value()->last_index() == 23, trial);
        CHECK(same_entries(read_ok(*log.value(), 1, 24), make_entries(1, 23, 1)));
      }
      ++trials;
    }
  }
  CHECK(trials > 150);
  write_file(file, original);
  auto log = open_wal_ok(dir.path(), WalOptions{1 << 16, false});
  CHECK(same_entries(read_ok(*log, 1, 25), make_entries(1, 24, 1)));
}

// A snapshot is kept beside the log in LMDB, which does not checksum what it stores.
TEST_CASE("a snapshot the disk changed fails the open with its index, not a silent wrong state") {
  TempDir dir;
  const std::string state(20000, 's');
  {
    auto log = open_wal_ok(dir.path(), kSmall);
    append_ok(*log, make_entries(1, 5, 1));
    snapshot_ok(*log, Snapshot{4, 1, state});
  }
  REQUIRE(open_wal_ok(dir.path(), kSmall)->snapshot()->data == state);
  const fs::path mdb = dir.path() + "/snapshots/data.mdb";
  std::string bytes = read_file(mdb);
  const auto at = bytes.find(state);
  REQUIRE(at != std::string::npos);
  bytes[at + 12345] = 't';
  write_file(mdb, bytes);
  auto log = open_wal_log(dir.path(), kSmall);
  REQUIRE_FALSE(log.ok());
  CHECK(log.status().code() == Errc::internal);
  CHECK_MESSAGE(log.status().message().find("snapshot at index 4") != std::string::npos, log.status().message());
  CHECK_MESSAGE(log.status().message().find("checksum") != std::string::npos, log.status().message());
}

TEST_CASE("a missing segment in the middle of the chain, or a foreign file, fails the open") {
  TempDir dir;
  {
    auto log = open_wal_ok(dir.path(), WalOptions{512, false});
    for (std::uint64_t i = 1; i <= 40; ++i) append_ok(*log, make_entries(i, i, 1));
  }
  auto files = segments(dir.path());
  REQUIRE(files.size() >= 3);
  SUBCASE("missing") {
    fs::remove(files[1]);
    auto log = open_wal_log(dir.path(), WalOptions{512, false});
    REQUIRE_FALSE(log.ok());
    CHECK(log.status().message().find("is missing") != std::string::npos);
  }
  SUBCASE("foreign") {
    write_file(files[1], std::string(512, 'z'));
    auto log = open_wal_log(dir.path(), WalOptions{512, false});
    REQUIRE_FALSE(log.ok());
    CHECK(log.status().message().find("not a Fourinone WAL segment") != std::string::npos);
  }
}

TEST_CASE("a blank last segment (taken into use, never written) takes the next write") {
  TempDir dir;
  {
    auto log = open_wal_ok(dir.path(), kSmall);
    append_ok(*log, make_entries(1, 3, 1));
  }
  auto last = segments(dir.path()).back();
  const auto blank = last.parent_path() / "00000000000000000002.wal";
  REQUIRE(last.filename() == "00000000000000000001.wal");
  write_file(blank, std::string(4096, '\0'));
  {
    auto log = open_wal_ok(dir.path(), kSmall);
    CHECK(log->last_index() == 3);
    append_ok(*log, make_entries(4, 6, 1));
  }
  CHECK(read_file(blank).find(data_for(5, 1)) != std::string::npos);
  auto log = open_wal_ok(dir.path(), kSmall);
  CHECK(same_entries(read_ok(*log, 1, 7), make_entries(1, 6, 1)));
}

TEST_CASE("a crash during a snapshot switch leaves the old chain or the new one, never a mix") {
  TempDir dir;
  auto model = fourinone::park::make_memory_log();
  auto both = [&](auto&& op) {
    auto log = open_wal_ok(dir.path(), kSmall);
    op(*log);
    op(*model);
  };
  both([](LogStorage& log) {
    append_ok(log, make_entries(1, 10, 1));
    REQUIRE(log.save_hard_state(HardState{1, 2, 8}).ok());
  });
  const auto old_files = segments(dir.path());
  std::vector<std::string> old_bytes;
  for (const auto& f : old_files) old_bytes.push_back(read_file(f));

  SUBCASE("snapshot stored, new chain never written: the old chain and snapshot count") {
    auto store = SnapshotStore::open(dir.path() + "/snapshots", false);
    REQUIRE(store.ok());
    REQUIRE(store.value()->put(Snapshot{8, 1, "never referenced"}).ok());
    store.value().reset();
    auto log = open_wal_ok(dir.path(), kSmall);
    require_same_log(*log, *model);
    CHECK_FALSE(log->snapshot().has_value());
    log.reset();
    store = SnapshotStore::open(dir.path() + "/snapshots", false);
    REQUIRE(store.ok());
    CHECK(store.value()->get(8).status().code() == Errc::not_found);  // dropped at open
  }
  SUBCASE("new chain written, old segments not yet deleted: the new chain counts, the old files go") {
    both([](LogStorage& log) { snapshot_ok(log, Snapshot{6, 1, "state at 6"}); });
    for (std::size_t i = 0; i < old_files.size(); ++i) write_file(old_files[i], old_bytes[i]);
    auto log = open_wal_ok(dir.path(), kSmall);
    require_same_log(*log, *model);
    for (const auto& f : old_files) CHECK_FALSE(fs::exists(f));
  }
}

TEST_CASE("after a failed WAL write the log refuses every later write, while reads go on") {
  TempDir dir;
  auto log = open_wal_ok(dir.path(), kSmall);
  append_ok(*log, make_entries(1, 3, 1));
  // A record too big for the segment needs a new file; a file size limit makes creating it fail.
  auto previous = std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
  rlimit small = saved;
  small.rlim_cur = 64 * 1024;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  Status failure = try_append(*log, {LogEntry{4, 1, std::string(100 * 1024, 'b')}});
  REQUIRE(setrlimit(RLIMIT_FSIZE, &saved) == 0);
  std::signal(SIGXFSZ, previous);

  INFO(failure.to_string());
  CHECK(failure.code() == Errc::internal);
  CHECK(failure.message().find(dir.path()) != std::string::npos);
  CHECK(log->last_index() == 3);
  Status again = try_append(*log, {LogEntry{4, 1, "tiny"}});
  CHECK(again.code() == Errc::internal);
  CHECK(again.message().rfind("storage failed earlier: ", 0) == 0);
  CHECK(log->save_hard_state(HardState{1, 1, 1}).code() == Errc::internal);
  CHECK(log->save_snapshot(Snapshot{1, 1, "s"}).code() == Errc::internal);
  CHECK(same_entries(read_ok(*log, 1, 4), make_entries(1, 3, 1)));

  // Reopening shows every acknowledged entry and takes writes again.
  log.reset();
  log = open_wal_ok(dir.path(), kSmall);
  CHECK(log->last_index() == 3);
  append_ok(*log, make_entries(4, 4, 1));
}

TEST_CASE("opening a WAL where no directory can be made fails with internal naming the path") {
  TempDir dir;
  fs::create_directories(dir.path());
  const std::string file = dir.path() + "/plain-file";
  write_file(file, "x");
  auto log = open_wal_log(file + "/log");
  REQUIRE_FALSE(log.ok());
  CHECK(log.status().code() == Errc::internal);
  CHECK(log.status().message().find(file) != std::string::npos);
}

TEST_CASE("a server data directory made before the WAL keeps its LMDB log; a new one gets the WAL") {
  TempDir dir;
  const std::string old_dir = dir.path() + "/old";
  append_ok(*open_ok(old_dir), make_entries(1, 3, 1));
  {
    auto log = fourinone::park::open_server_log(old_dir, false);
    REQUIRE(log.ok());
    CHECK(same_entries(read_ok(*log.value(), 1, 4), make_entries(1, 3, 1)));
  }
  CHECK_FALSE(fs::exists(old_dir + "/wal"));

  const std::string new_dir = dir.path() + "/new";
  {
    auto log = fourinone::park::open_server_log(new_dir, false);
    REQUIRE(log.ok());
    append_ok(*log.value(), make_entries(1, 2, 1));
  }
  CHECK(fs::exists(new_dir + "/wal"));
  CHECK_FALSE(fs::exists(new_dir + "/data.mdb"));
  auto log = open_wal_ok(new_dir, WalOptions{64ull << 20, false});
  CHECK(log->last_index() == 2);
}
