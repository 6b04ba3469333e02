// WalLog: the park server's log as a write-ahead log of segment files, with its snapshots in
// an LMDB store beside it. The format and the crash cases are in park/log/README.md.
//
// DESIGN. Why not LMDB for the entries too (DESIGN §2 says LMDB for all persistence): an LMDB
// durable commit syncs twice (data pages, then the meta page), about 480-590 us on this
// project's machines, and every client write waits for one on the leader and one on a
// follower. A record appended to a preallocated segment costs one fdatasync, about 180 us.
//
// The chain. Every save_snapshot() starts a new segment whose first record is `start`
// (snapshot index and term), followed by the hard state and the entries the snapshot keeps;
// only then are the older segments deleted. So the log is always "the snapshot named by the
// newest start record, then every record from there on", and a crash at any point of that
// sequence leaves either the old chain or the new one whole. Segments fill up and roll over
// to the next sequence number without a start record (a continuation).
//
// In memory: the location (segment, offset, size) and term of every entry after the
// snapshot, never the data; reads pread it back (usually from the page cache).
//
// Persist before you tell anyone (STYLE §2): a failed write or fdatasync breaks the storage
// for good, exactly as in the LMDB log; reopening shows what reached the disk.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <filesystem>
#include <regex>
#include <utility>

#include "park/log/log_rules.hpp"
#include "park/log/log_storage.hpp"
#include "park/log/snapshot_store.hpp"
#include "park/log/wal_file.hpp"
#include "park/log/wal_record.hpp"

namespace fourinone::park {
namespace {

namespace fs = std::filesystem;
using wal::kRecordHeaderSize;
using wal::kSegmentHeaderSize;

struct Segment {
  std::uint64_t seq = 0;
  SegmentFile file;
};

struct EntryLocation {
  std::uint64_t term = 0;
  std::uint64_t seq = 0;        // segment
  std::uint64_t body_at = 0;    // offset of the record body in the segment
  std::uint32_t body_size = 0;  // type, index, term and data
};

// Records on their way to disk, with where each entry's body sits in `bytes`.
struct Batch {
  struct Placed {
    std::uint64_t term = 0;
    std::size_t body_at = 0;  // in `bytes`
    std::uint32_t body_size = 0;
  };
  std::string bytes;
  std::vector<Placed> entries;

  void add(const LogEntry& e) {
    const std::size_t body_at = wal::put_entry(bytes, e);
    entries.push_back(Placed{e.term, body_at, static_cast<std::uint32_t>(bytes.size() - body_at)});
  }
};

std::string segment_name(std::uint64_t seq) {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.wal", static_cast<unsigned long long>(seq));
  return name;
}

// Reads a segment front to back through a window, so that a scan costs few syscalls.
class SegmentReader {
 public:
  explicit SegmentReader(const SegmentFile& file) : file_(file) {}

  // `n` bytes at `offset` (which must lie within the file), valid until the next call.
  Result<std::string_view> at(std::uint64_t offset, std::size_t n) {
    if (offset < window_at_ || offset + n > window_at_ + window_.size()) {
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(std::max<std::size_t>(n, 1 << 20), file_.size() - offset));
      window_.resize(want);
      if (Status s = file_.read_at(offset, want, window_.data()); !s.ok()) return s;
      window_at_ = offset;
    }
    return std::string_view(window_).substr(static_cast<std::size_t>(offset - window_at_), n);
  }

 private:
  const SegmentFile& file_;
  std::string window_;
  std::uint64_t window_at_ = 0;
};

class WalLog final : public LogStorage {
 public:
  WalLog(std::string dir, const WalOptions& options, std::unique_ptr<SnapshotStore> snapshots)
      : dir_(std::move(dir)), wal_dir_(dir_ + "/wal"), options_(options), snapshots_(std::move(snapshots)) {}

  ~WalLog() override {
    spares_.reset();
    // Without sync the writes sit in the page cache; a clean close flushes them once.
    if (!options_.sync && broken_.ok() && !chain_.empty()) (void)chain_.back().file.sync();
  }

  WalLog(const WalLog&) = delete;
  WalLog& operator=(const WalLog&) = delete;

  Status init();

  std::uint64_t first_index() const override { return first_; }
  std::uint64_t last_index() const override { return first_ + entries_.size() - 1; }

  Status append(std::span<const LogEntry> entries) override { return write(std::nullopt, entries); }
  Result<std::vector<LogEntry>> read(std::uint64_t from, std::uint64_t to, std::size_t max_bytes) const override;
  Result<std::uint64_t> term(std::uint64_t index) const override;
  Status save_hard_state(const HardState& state) override { return write(state, {}); }
  Status write(const std::optional<HardState>& state, std::span<const LogEntry> entries) override;
  HardState hard_state() const override { return hard_state_; }
  Status save_snapshot(const Snapshot& snapshot) override;
  std::optional<Snapshot> snapshot() const override;
  std::vector<LogEntry> take_opened_entries() override { return std::exchange(opened_, {}); }

 private:
  Status create_first_chain();
  Status replay(Segment& segment, bool first_of_chain, bool last);
  Status cut_torn_tail(Segment& segment, std::uint64_t at);
  static Result<std::optional<wal::Record>> read_record(SegmentReader& reader, const Segment& segment,
                                                        std::uint64_t at, const wal::RecordHeader& rh);
  static Result<std::optional<std::uint64_t>> valid_record_behind(SegmentReader& reader, const Segment& segment,
                                                                  std::uint64_t at, const wal::RecordHeader& rh);
  // Writes `batch` durably at the end of the current segment, or in a new one when it does
  // not fit (or when `new_chain`); returns the offset where batch.bytes begins.
  Result<std::uint64_t> put(const Batch& batch, bool new_chain);
  Result<Segment> take_segment(std::uint64_t seq, std::uint64_t min_size);
  void remember(const Batch& batch, std::uint64_t seq, std::uint64_t base);

  Status corrupt(const std::string& where, const std::string& what) const {
    return Status(Errc::internal, "WAL in " + wal_dir_ + " is corrupt: " + where + ": " + what);
  }
  Status fail(Status status) {
    broken_ = status;
    return status;
  }
  Status refuse_if_broken() const { return log_rules::refuse_if_broken(broken_); }
  const Segment& segment(std::uint64_t seq) const { return chain_[static_cast<std::size_t>(seq - chain_.front().seq)]; }

  const std::string dir_;
  const std::string wal_dir_;
  const WalOptions options_;
  std::unique_ptr<SnapshotStore> snapshots_;
  // Only with sync (zero-filling matters for fdatasync only), and only once the current
  // segment is half full: a short-lived or little-used server never writes a second 64 MiB.
  std::unique_ptr<SparePreallocator> spares_;
  void start_spares_when_needed();

  std::deque<Segment> chain_;             // consecutive sequence numbers; the last one takes writes
  std::uint64_t write_at_ = 0;            // where the next record goes in chain_.back()
  bool needs_header_ = false;             // chain_.back() is blank: the next write starts with its header
  std::deque<EntryLocation> entries_;     // entries_[i] is index first_ + i
  std::vector<LogEntry> opened_;          // what replay() read, until take_opened_entries()
  std::uint64_t first_ = 1;               // snapshot index + 1
  std::uint64_t snapshot_term_ = 0;
  bool has_snapshot_ = false;
  HardState hard_state_;
  Status broken_;
};

Status WalLog::init() {
  std::error_code ec;
  fs::create_directories(wal_dir_, ec);
  if (ec) return Status(Errc::internal, "cannot create the WAL directory " + wal_dir_ + ": " + ec.message());

  static const std::regex kSegmentFile("[0-9]{20}\\.wal");
  std::vector<std::uint64_t> seqs;
  for (const auto& item : fs::directory_iterator(wal_dir_, ec)) {
    const std::string name = item.path().filename().string();
    if (name == "spare" || item.path().extension() == ".tmp") {
      fs::remove(item.path(), ec);  // half-made files of a crash; a fresh spare is made
    } else if (std::regex_match(name, kSegmentFile)) {
      seqs.push_back(std::strtoull(name.c_str(), nullptr, 10));
    }
  }
  if (ec) return Status(Errc::internal, "cannot list the WAL directory " + wal_dir_ + ": " + ec.message());
  std::sort(seqs.begin(), seqs.end());

  if (seqs.empty()) {
    if (Status s = create_first_chain(); !s.ok()) return s;
  } else {
    // The chain begins at the newest segment whose first record is a whole `start` record.
    std::vector<Segment> opened;
    std::optional<std::size_t> begin;
    for (std::size_t i = seqs.size(); i-- > 0 && !begin;) {
      auto file = SegmentFile::open(wal_dir_ + "/" + segment_name(seqs[i]));
      if (!file.ok()) return file.status();
      Segment candidate{seqs[i], std::move(file).value()};
      SegmentReader reader(candidate.file);
      const std::uint64_t first_record = kSegmentHeaderSize + kRecordHeaderSize;
      if (candidate.file.size() >= first_record) {
        auto head = reader.at(0, first_record);
        if (!head.ok()) return head.status();
        auto header = wal::read_record_header(head->data() + kSegmentHeaderSize);
        if (wal::check_segment_header(head->substr(0, kSegmentHeaderSize), seqs[i]) == wal::HeaderCheck::ok &&
            (header.body_size != 0 || header.crc != 0)) {
          auto record = read_record(reader, candidate, kSegmentHeaderSize, header);
          if (!record.ok()) return record.status();
          if (*record && (*record)->type == wal::RecordType::start) begin = i;
          if (!*record) {
            // A start record torn by a crash during a snapshot switch leaves the older chain
            // in charge; one the disk changed (a valid record behind it) must not.
            auto behind = valid_record_behind(reader, candidate, kSegmentHeaderSize, header);
            if (!behind.ok()) return behind.status();
            if (*behind) {
              return corrupt(segment_name(seqs[i]) + " at offset " + std::to_string(kSegmentHeaderSize),
                             "a damaged first record with a valid record behind it at offset " +
                                 std::to_string(**behind) + ": the disk changed written data");
            }
          }
        }
      }
      opened.push_back(std::move(candidate));
    }
    if (!begin) return corrupt(wal_dir_, "no segment begins with a start record");
    for (std::size_t i = *begin; i < seqs.size(); ++i) {
      if (i > *begin && seqs[i] != seqs[i - 1] + 1) {
        return corrupt(segment_name(seqs[i - 1]), "the next segment, " + std::to_string(seqs[i - 1] + 1) + ", is missing");
      }
      chain_.push_back(std::move(opened[seqs.size() - 1 - i]));
    }
    for (std::size_t i = 0; i < chain_.size(); ++i) {
      if (Status s = replay(chain_[i], i == 0, i + 1 == chain_.size()); !s.ok()) return s;
    }
    // Older segments belong to a chain a later snapshot replaced.
    for (std::size_t i = 0; i < *begin; ++i) fs::remove(wal_dir_ + "/" + segment_name(seqs[i]), ec);
  }
  if (has_snapshot_) {
    auto snap = snapshots_->get(first_ - 1);
    if (!snap.ok()) return corrupt("snapshot store", "the start record names snapshot " + std::to_string(first_ - 1) + ": " + snap.status().message());
    if (snap->term != snapshot_term_) return corrupt("snapshot store", "snapshot " + std::to_string(first_ - 1) + " has another term");
  }
  // Snapshots other than the named one were replaced, or written just before a crash.
  if (Status s = snapshots_->keep_only(has_snapshot_ ? std::optional<std::uint64_t>(first_ - 1) : std::nullopt); !s.ok()) return s;
  start_spares_when_needed();
  return Status();
}

void WalLog::start_spares_when_needed() {
  if (spares_ || !options_.sync || chain_.empty()) return;
  if (write_at_ * 2 >= chain_.back().file.size()) {
    spares_ = std::make_unique<SparePreallocator>(wal_dir_, options_.segment_size);
  }
}

Status WalLog::create_first_chain() {
  Batch batch;
  wal::put_start(batch.bytes, std::nullopt);
  wal::put_state(batch.bytes, HardState{});
  auto at = put(batch, true);
  return at.ok() ? Status() : at.status();
}

Status WalLog::replay(Segment& segment, bool first_of_chain, bool last) {
  const std::string name = segment_name(segment.seq);
  SegmentReader reader(segment.file);
  if (segment.file.size() < kSegmentHeaderSize) return corrupt(name, "shorter than its header");
  auto header = reader.at(0, kSegmentHeaderSize);
  if (!header.ok()) return header.status();
  switch (wal::check_segment_header(*header, segment.seq)) {
    case wal::HeaderCheck::ok:
      break;
    case wal::HeaderCheck::blank:
      if (!last) return corrupt(name, "a blank segment before the last one");
      write_at_ = kSegmentHeaderSize;
      needs_header_ = true;
      return Status();
    case wal::HeaderCheck::foreign:
      return corrupt(name, "not a Fourinone WAL segment, or not segment " + std::to_string(segment.seq));
  }

  std::uint64_t at = kSegmentHeaderSize;
  for (bool first_record = true;; first_record = false) {
    if (at + kRecordHeaderSize > segment.file.size()) break;
    auto head = reader.at(at, kRecordHeaderSize);
    if (!head.ok()) return head.status();
    auto rh = wal::read_record_header(head->data());
    if (rh.body_size == 0 && rh.crc == 0) break;  // the zeros after the last record
    const std::string where = name + " at offset " + std::to_string(at);
    auto record = read_record(reader, segment, at, rh);
    if (!record.ok()) return record.status();
    if (!*record) {
      // Only the last write can have been cut short by a crash, and it was never acknowledged.
      if (!last) return corrupt(where, "a damaged record before the last segment");
      // A torn write ends the data; a valid record behind the damage means the disk changed
      // bytes that were written and synced (acknowledged writes may be among them): that is
      // never cut off as a torn tail.
      auto behind = valid_record_behind(reader, segment, at, rh);
      if (!behind.ok()) return behind.status();
      if (*behind) {
        return corrupt(where, "a damaged record with a valid record behind it at offset " + std::to_string(**behind) +
                                  ": the disk changed written data (not a write cut short by a crash)");
      }
      return cut_torn_tail(segment, at);
    }
    const std::optional<wal::Record>& checked = *record;
    switch (checked->type) {
      case wal::RecordType::start:
        if (!(first_of_chain && first_record)) return corrupt(where, "a start record in the middle of the chain");
        first_ = checked->a + 1;
        snapshot_term_ = checked->b;
        has_snapshot_ = checked->c != 0;
        break;
      case wal::RecordType::state:
        hard_state_ = HardState{checked->a, checked->b, checked->c};
        break;
      case wal::RecordType::entry: {
        const std::uint64_t index = checked->a;
        if (index < first_ || index > last_index() + 1) {
          return corrupt(where, "entry " + std::to_string(index) + " does not follow the log [" + std::to_string(first_) +
                                    ", " + std::to_string(last_index()) + "]");
        }
        entries_.resize(index - first_);  // a later record for an index replaces the suffix from there
        entries_.push_back(EntryLocation{checked->b, segment.seq, at + kRecordHeaderSize, rh.body_size});
        opened_.resize(index - first_);
        opened_.push_back(LogEntry{index, checked->b, std::string(checked->data)});
        break;
      }
    }
    at += kRecordHeaderSize + rh.body_size;
  }
  if (last) write_at_ = at;
  return Status();
}

// The record at `at` with header `rh`: nullopt when it runs past the segment, fails its CRC or
// does not decode.
Result<std::optional<wal::Record>> WalLog::read_record(SegmentReader& reader, const Segment& segment,
                                                       std::uint64_t at, const wal::RecordHeader& rh) {
  if (rh.body_size == 0 || at + kRecordHeaderSize + rh.body_size > segment.file.size()) {
    return std::optional<wal::Record>();
  }
  auto body = reader.at(at + kRecordHeaderSize, rh.body_size);
  if (!body.ok()) return body.status();
  return wal::decode_checked(*body, rh.crc);
}

// Where a valid record follows the damaged one at `at`, if one does. Its length is tried as it
// reads and with each one of its 32 bits flipped (a flip in the length itself); from the
// length as it reads, records that fit but fail their CRC are stepped over too (damage that
// spans several records), up to kDamagedRecordsStepped of them. A valid record found this way
// has a CRC-32C that matches: random bytes do so once in four billion tries.
Result<std::optional<std::uint64_t>> WalLog::valid_record_behind(SegmentReader& reader, const Segment& segment,
                                                                 std::uint64_t at, const wal::RecordHeader& rh) {
  constexpr int kDamagedRecordsStepped = 64;
  auto valid_at = [&](std::uint64_t pos) -> Result<bool> {
    if (pos + kRecordHeaderSize > segment.file.size()) return false;
    auto head = reader.at(pos, kRecordHeaderSize);
    if (!head.ok()) return head.status();
    auto r = read_record(reader, segment, pos, wal::read_record_header(head->data()));
    if (!r.ok()) return r.status();
    return r->has_value();
  };
  for (int bit = 0; bit < 32; ++bit) {
    const std::uint64_t pos = at + kRecordHeaderSize + (rh.body_size ^ (std::uint32_t{1} << bit));
    auto v = valid_at(pos);
    if (!v.ok()) return v.status();
    if (*v) return std::optional<std::uint64_t>(pos);
  }
  std::uint64_t pos = at + kRecordHeaderSize + rh.body_size;
  for (int step = 0; step < kDamagedRecordsStepped; ++step) {
    if (pos + kRecordHeaderSize > segment.file.size()) break;
    auto head = reader.at(pos, kRecordHeaderSize);
    if (!head.ok()) return head.status();
    const auto next = wal::read_record_header(head->data());
    if (next.body_size == 0 || pos + kRecordHeaderSize + next.body_size > segment.file.size()) break;
    auto r = read_record(reader, segment, pos, next);
    if (!r.ok()) return r.status();
    if (r->has_value()) return std::optional<std::uint64_t>(pos);
    pos += kRecordHeaderSize + next.body_size;
  }
  return std::optional<std::uint64_t>();
}

Status WalLog::cut_torn_tail(Segment& segment, std::uint64_t at) {
  spdlog::warn("WAL {}: cutting off a torn record at offset {} of {} (a write interrupted by a crash)", wal_dir_, at,
               segment_name(segment.seq));
  // Zero the torn bytes so that a later, shorter record never sits before stale ones.
  std::string chunk;
  const std::string zeros(1 << 20, '\0');
  for (std::uint64_t pos = at; pos < segment.file.size(); pos += zeros.size()) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), segment.file.size() - pos));
    chunk.resize(n);
    if (Status s = segment.file.read_at(pos, n, chunk.data()); !s.ok()) return s;
    if (chunk.find_first_not_of('\0') == std::string::npos) break;  // the untouched preallocated zeros
    if (Status s = segment.file.write_at(pos, std::string_view(zeros).substr(0, n)); !s.ok()) return s;
  }
  if (Status s = segment.file.sync(); !s.ok()) return s;
  write_at_ = at;
  return Status();
}

Result<Segment> WalLog::take_segment(std::uint64_t seq, std::uint64_t min_size) {
  const std::string path = wal_dir_ + "/" + segment_name(seq);
  bool taken = false;
  if (spares_ && min_size <= options_.segment_size) {
    auto spare = spares_->take(path);
    if (!spare.ok()) return spare.status();
    taken = spare.value();
  }
  if (!taken) {
    if (Status s = create_segment_file(path, std::max(min_size, options_.segment_size), options_.sync); !s.ok()) return s;
  }
  auto file = SegmentFile::open(path);
  if (!file.ok()) return file.status();
  return Segment{seq, std::move(file).value()};
}

Result<std::uint64_t> WalLog::put(const Batch& batch, bool new_chain) {
  const bool fits = !chain_.empty() && !new_chain &&
                    write_at_ + batch.bytes.size() <= chain_.back().file.size();
  if (!fits) {
    const std::uint64_t seq = chain_.empty() ? 1 : chain_.back().seq + 1;
    auto segment = take_segment(seq, kSegmentHeaderSize + batch.bytes.size());
    if (!segment.ok()) return segment.status();
    std::string bytes = wal::segment_header(seq) + batch.bytes;
    if (Status s = segment->file.write_at(0, bytes); !s.ok()) return s;
    if (options_.sync) {
      if (Status s = segment->file.sync(); !s.ok()) return s;
      if (Status s = sync_directory(wal_dir_); !s.ok()) return s;  // the new name must survive too
    }
    if (new_chain) {
      // The new chain is durable: the old one, and the snapshots it named, can go.
      for (const Segment& old : chain_) {
        std::error_code ec;
        if (!fs::remove(old.file.path(), ec) && ec) {
          spdlog::warn("WAL: cannot delete {} ({}); the next open deletes it", old.file.path(), ec.message());
        }
      }
      chain_.clear();
    }
    chain_.push_back(std::move(segment).value());
    write_at_ = bytes.size();
    needs_header_ = false;
    start_spares_when_needed();
    return static_cast<std::uint64_t>(kSegmentHeaderSize);
  }
  std::uint64_t base = write_at_;
  if (needs_header_) {
    // A blank segment found at open (taken into use, never written): its header goes first.
    if (Status s = chain_.back().file.write_at(0, wal::segment_header(chain_.back().seq)); !s.ok()) return s;
  }
  if (Status s = chain_.back().file.write_at(base, batch.bytes); !s.ok()) return s;
  if (options_.sync) {
    if (Status s = chain_.back().file.sync(); !s.ok()) return s;
  }
  write_at_ += batch.bytes.size();
  needs_header_ = false;
  start_spares_when_needed();
  return base;
}

void WalLog::remember(const Batch& batch, std::uint64_t seq, std::uint64_t base) {
  for (const auto& e : batch.entries) entries_.push_back(EntryLocation{e.term, seq, base + e.body_at, e.body_size});
}

Status WalLog::write(const std::optional<HardState>& state, std::span<const LogEntry> entries) {
  if (Status s = refuse_if_broken(); !s.ok()) return s;
  if (Status s = log_rules::check_append(entries, first_ - 1, last_index()); !s.ok()) return s;
  if (!state && entries.empty()) return Status();
  Batch batch;
  try {
    if (state) wal::put_state(batch.bytes, *state);
    for (const LogEntry& e : entries) batch.add(e);
  } catch (const std::exception& e) {
    return Status(Errc::internal, std::string("WAL write: ") + e.what());
  }
  auto base = put(batch, false);
  if (!base.ok()) return fail(base.status());
  if (state) hard_state_ = *state;
  if (!entries.empty()) {
    entries_.resize(entries.front().index - first_);  // conflict truncation (no-op when appending)
    remember(batch, chain_.back().seq, base.value());
  }
  return Status();
}

Result<std::vector<LogEntry>> WalLog::read(std::uint64_t from, std::uint64_t to, std::size_t max_bytes) const {
  if (Status s = log_rules::check_read(from, to, first_, last_index()); !s.ok()) return s;
  try {
    // Choose the entries first (sizes are known), then read each run that is contiguous in a
    // segment with one pread.
    const std::uint64_t end = std::min(to, last_index() + 1);
    std::size_t count = 0, bytes = 0;
    for (std::uint64_t i = from; i < end; ++i) {
      bytes += entries_[i - first_].body_size - wal::kEntryBodyOverhead + log_rules::kEntryOverhead;
      if (count > 0 && bytes > max_bytes) break;
      ++count;
    }
    std::vector<LogEntry> out;
    out.reserve(count);
    std::string buffer;
    for (std::size_t i = 0; i < count;) {
      const EntryLocation& head = entries_[from - first_ + i];
      std::size_t run = 1;
      std::uint64_t run_end = head.body_at + head.body_size;
      while (i + run < count) {
        const EntryLocation& next = entries_[from - first_ + i + run];
        if (next.seq != head.seq || next.body_at != run_end + kRecordHeaderSize) break;
        run_end = next.body_at + next.body_size;
        ++run;
      }
      buffer.resize(static_cast<std::size_t>(run_end - head.body_at));
      if (Status s = segment(head.seq).file.read_at(head.body_at, buffer.size(), buffer.data()); !s.ok()) return s;
      for (std::size_t k = 0; k < run; ++k) {
        const EntryLocation& loc = entries_[from - first_ + i + k];
        auto record = wal::decode_body(std::string_view(buffer).substr(static_cast<std::size_t>(loc.body_at - head.body_at), loc.body_size));
        const std::uint64_t index = from + i + k;
        if (!record || record->type != wal::RecordType::entry || record->a != index || record->b != loc.term) {
          return corrupt(segment_name(loc.seq) + " at offset " + std::to_string(loc.body_at), "entry " + std::to_string(index) + " reads back wrong");
        }
        out.push_back(LogEntry{index, loc.term, std::string(record->data)});
      }
      i += run;
    }
    return out;
  } catch (const std::exception& e) {
    return Status(Errc::internal, std::string("WAL read: ") + e.what());
  }
}

Result<std::uint64_t> WalLog::term(std::uint64_t index) const {
  if (index == first_ - 1) return snapshot_term_;
  if (index < first_ || index > last_index()) return Status(Errc::not_found, "no log entry at index " + std::to_string(index));
  return entries_[index - first_].term;
}

Status WalLog::save_snapshot(const Snapshot& snapshot) {
  if (Status s = refuse_if_broken(); !s.ok()) return s;
  if (Status s = log_rules::check_snapshot(snapshot, first_ - 1); !s.ok()) return s;
  // Raft §7: the entries after the snapshot stay only if the log agrees with it at its index.
  std::vector<LogEntry> kept;
  auto t = term(snapshot.index);
  if (snapshot.index < last_index() && t.ok() && *t == snapshot.term) {
    auto r = read(snapshot.index + 1, last_index() + 1, std::size_t{1} << 62);
    if (!r.ok()) return r.status();
    kept = std::move(r).value();
  }
  Batch batch;
  try {
    wal::put_start(batch.bytes, snapshot);
    wal::put_state(batch.bytes, hard_state_);
    for (const LogEntry& e : kept) batch.add(e);
  } catch (const std::exception& e) {
    return Status(Errc::internal, std::string("WAL snapshot: ") + e.what());
  }
  if (Status s = snapshots_->put(snapshot); !s.ok()) return fail(s);
  auto base = put(batch, true);
  if (!base.ok()) return fail(base.status());
  first_ = snapshot.index + 1;
  snapshot_term_ = snapshot.term;
  has_snapshot_ = true;
  entries_.clear();
  remember(batch, chain_.back().seq, base.value());
  if (Status s = snapshots_->keep_only(snapshot.index); !s.ok()) {
    spdlog::warn("WAL {}: old snapshots stay until the next open: {}", wal_dir_, s.message());
  }
  return Status();
}

std::optional<Snapshot> WalLog::snapshot() const {
  if (!has_snapshot_) return std::nullopt;
  auto snap = snapshots_->get(first_ - 1);
  if (!snap.ok()) {
    // The chain names this snapshot; failing to read it is a broken invariant this signature
    // cannot report, and pretending there is none would lose the state it holds.
    std::fprintf(stderr, "fatal: WAL in %s: cannot read the snapshot at index %llu: %s\n", wal_dir_.c_str(),
                 static_cast<unsigned long long>(first_ - 1), snap.status().message().c_str());
    std::abort();
  }
  return std::move(snap).value();
}

}  // namespace

Result<std::unique_ptr<LogStorage>> open_wal_log(const std::string& dir, const WalOptions& options) {
  try {
    auto snapshots = SnapshotStore::open(dir + "/snapshots", options.sync);
    if (!snapshots.ok()) return snapshots.status();
    auto log = std::make_unique<WalLog>(dir, options, std::move(snapshots).value());
    if (Status s = log->init(); !s.ok()) return s;
    return std::unique_ptr<LogStorage>(std::move(log));
  } catch (const std::exception& e) {
    return Status(Errc::internal, "cannot open the WAL in " + dir + ": " + e.what());
  }
}

Result<std::unique_ptr<LogStorage>> open_server_log(const std::string& dir, bool sync, std::uint64_t wal_segment) {
  std::error_code ec;
  if (fs::exists(dir + "/data.mdb", ec)) return open_lmdb_log(dir, LmdbOptions{64ull << 30, sync});
  return open_wal_log(dir, WalOptions{wal_segment, sync});
}

}  // namespace fourinone::park
