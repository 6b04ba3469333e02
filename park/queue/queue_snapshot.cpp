// QueueBook::save / QueueBook::load.
//
// Format: the persisted state — next lease token, then every channel by name with its rules,
// counters, messages and cursors — in our wire archive (core/wire_archive.hpp), which refuses
// lengths past the end, so hostile bytes cannot make it allocate. load() then checks every
// invariant apply() relies on before the book is used, and rebuilds the derived indices
// (leases by deadline and by session, bytes).
#include <cereal/types/map.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <stdexcept>

#include "core/wire_archive.hpp"
#include "park/queue/queue_book.hpp"
#include "park/store/store.hpp"

namespace fourinone::park {
namespace {

struct Persisted {
  std::uint64_t next_token = 1;
  std::map<std::string, MqChannel, std::less<>> channels;
  template <class A>
  void serialize(A& ar) { ar(next_token, channels); }
};

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(what);
}

}  // namespace

std::string QueueBook::save() const {
  // The same bytes as encode(Persisted{...}), without copying the channels first.
  std::string out;
  core::WireOutputArchive archive(out);
  archive(next_token_, channels_);
  return out;
}

Result<QueueBook> QueueBook::load(std::string_view bytes, std::size_t max_name) {
  Persisted p;
  if (Status s = core::decode(bytes, p, "queue snapshot"); !s.ok()) return s;
  QueueBook book(max_name);
  try {
    require(p.next_token >= 1, "lease tokens start at 1");
    for (auto& [name, ch] : p.channels) {
      require(check_name(name, max_name).empty(), "bad channel name");
      require(ch.next_offset >= 1, "offsets start at 1");
      require(ch.messages.empty() || ch.messages.rbegin()->first < ch.next_offset, "message offset out of range");
      require(ch.messages.empty() || ch.messages.begin()->first >= 1, "message offset 0");
      require(ch.topic || (ch.cursors.size() == 1 && ch.cursors.count("")), "a queue has exactly one cursor");
      for (auto& [sub, cur] : ch.cursors) {
        require(!ch.topic || (!sub.empty() && check_name(sub, max_name).empty()), "bad subscriber name");
        require(cur.next >= 1 && cur.next <= ch.next_offset && cur.floor >= 1 && cur.floor <= cur.next,
                "cursor out of range");
        for (auto o : cur.returned) require(o < cur.next && !cur.leased.count(o), "returned offset out of range");
        for (const auto& [o, lease] : cur.leased) {
          require(o < cur.next && ch.messages.count(o) && lease.token < p.next_token, "lease out of range");
        }
        for (auto o : cur.acked) require(o >= cur.floor && o < cur.next, "acked offset out of range");
      }
    }
  } catch (const std::exception& e) {
    return Status(Errc::bad_request, std::string("corrupt queue snapshot: ") + e.what());
  }
  book.next_token_ = p.next_token;
  book.channels_ = std::move(p.channels);
  book.rebuild_indices();
  return book;
}

void QueueBook::rebuild_indices() {
  by_deadline_.clear();
  by_session_.clear();
  bytes_ = 0;
  for (auto& [name, ch] : channels_) {
    ch.bytes = 0;
    for (const auto& [offset, msg] : ch.messages) ch.bytes += msg.body.size() + kMqMessageOverhead;
    bytes_ += ch.bytes;
    for (const auto& [sub, cur] : ch.cursors) {
      for (const auto& [offset, lease] : cur.leased) {
        by_deadline_.emplace(lease.deadline_ms, name, sub, offset);
        if (lease.session != 0) by_session_[lease.session].emplace(name, sub, offset);
      }
    }
  }
}

}  // namespace fourinone::park
