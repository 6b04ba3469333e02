// CacheServer, the replication half: the primary's links to its backups, writes waiting for
// acknowledgements, role changes, and the backup's side of the stream. The rules are at the
// top of cache_server.hpp; cache/README.md tells why they keep acknowledged writes.
#include <spdlog/spdlog.h>

#include "cache/protocol/checks.hpp"
#include "cache/server/cache_server.hpp"
#include "core/wire_archive.hpp"

namespace fourinone::cache {
namespace {

constexpr std::size_t kSyncChunkBytes = 512u << 10;
constexpr auto kLinkCallTimeout = std::chrono::seconds(10);

}  // namespace

// --- the primary: answering writes ------------------------------------------------------------

void CacheServer::answer_after_replication(const core::RpcConnectionPtr& connection, std::uint64_t id,
                                           std::string frame, const Changes& changes) {
  if (changes.count == 0) {
    send_reply(connection, id, std::move(frame));
    return;
  }
  // Every backup past its hello gets the changes (in a link still connecting, the full copy,
  // taken later on this same thread, will hold them). Only those that may be in in_sync are
  // waited for: a backup getting its copy is not, and a write answered meanwhile reaches it
  // in the stream before it may join (see catching_up).
  int waiting = static_cast<int>(shrinks_.size());
  for (auto& [member, link] : links_) {
    (void)member;
    if (link->counts()) ++waiting;
  }
  const std::uint64_t pending_id = waiting == 0 ? 0 : next_pending_++;
  bool queued = false;
  for (auto& [member, link] : links_) {
    (void)member;
    if (link->state == Link::State::connecting) continue;
    link->outbox += changes.bytes;
    link->outbox_count += changes.count;
    if (pending_id != 0 && link->counts()) link->outbox_ids.push_back(pending_id);
    queued = true;
  }
  if (queued && !flush_posted_) {
    // Everything applied in this io turn goes out as one replicate request per backup.
    flush_posted_ = true;
    boost::asio::post(io_, [this] { flush_links(); });
  }
  if (waiting == 0) {
    send_reply(connection, id, std::move(frame));
    return;
  }
  pending_.emplace(pending_id, PendingWrite{connection, id, std::move(frame), waiting});
  for (auto& [member, waiters] : shrinks_) {
    (void)member;
    waiters.push_back(pending_id);
  }
}

// A backup that got its copy joins in_sync once it confirmed every batch sent while it was
// syncing: from then on it holds every write answered so far, and later ones wait for it.
void CacheServer::maybe_request_add(Link& link) {
  if (link.state != Link::State::catching_up) return;
  if (!link.unacked.empty() && link.unacked.begin()->first <= link.caught_up_batch) return;
  link.state = Link::State::adding;
  control_->request_add(link.member, epoch_);
}

void CacheServer::flush_links() {
  flush_posted_ = false;
  for (auto& [member, link] : links_) {
    if (link->outbox_count == 0 || !link->conn) continue;
    std::string frame = core::frame_buffer(64 + link->outbox.size());
    proto::append_batch_request_head(frame, proto::Op::replicate, 0, epoch_, link->outbox_count);
    frame += link->outbox;
    link->outbox.clear();
    link->outbox_count = 0;
    // The batch's writes, kept until the backup confirms them (one map node per batch).
    const std::uint64_t batch = ++link->last_batch;
    link->unacked.emplace(batch, std::move(link->outbox_ids));
    link->outbox_ids.clear();
    const std::uint64_t generation = link->generation;
    link->conn->call_frame(std::move(frame), std::chrono::steady_clock::now() + kLinkCallTimeout,
                     [this, m = member, generation, batch](Result<std::string> body) {
                       const Status s = proto::answer_status(body, "replicate answer");
                       auto it = links_.find(m);
                       if (it == links_.end() || it->second->generation != generation) return;  // already handled
                       if (!s.ok()) {
                         defer_link_failed(m, generation, s);
                         return;
                       }
                       auto sent = it->second->unacked.find(batch);
                       if (sent == it->second->unacked.end()) return;
                       std::vector<std::uint64_t> ids = std::move(sent->second);
                       it->second->unacked.erase(sent);
                       maybe_request_add(*it->second);
                       for (auto pid : ids) ack_one(pid);
                     });
  }
}

void CacheServer::ack_one(std::uint64_t pending_id) {
  auto it = pending_.find(pending_id);
  if (it == pending_.end()) return;
  if (--it->second.waiting > 0) return;
  send_reply(it->second.connection, it->second.request_id, std::move(it->second.reply));
  pending_.erase(it);
}

// --- the primary: links ---------------------------------------------------------------------

void CacheServer::set_members(const std::vector<std::string>& members) {
  if (role_ != Role::primary || stopping_) return;
  members_ = members;
  for (const auto& member : members_) {
    if (!links_.count(member) && !shrinks_.count(member)) open_link(member);
  }
  // A member whose registration is gone is dead (or cut off): drop it from in_sync.
  std::vector<std::string> gone;
  for (const auto& [member, link] : links_) {
    if (std::find(members_.begin(), members_.end(), member) == members_.end()) gone.push_back(member);
  }
  for (const auto& member : gone) link_failed(member, links_[member]->generation, Status(Errc::unavailable, "left the park"));
}

void CacheServer::open_link(const std::string& member) {
  auto address = parse_server_address(member);
  if (!address.ok()) return;
  auto link = std::make_unique<Link>();
  link->member = member;
  link->generation = next_generation_++;
  const std::uint64_t generation = link->generation;
  links_[member] = std::move(link);
  spdlog::info("cache {}: linking to backup {}", self_, member);
  core::RpcClient::connect(io_, address.value(), link_options_,
                           [this, member, generation](Result<std::shared_ptr<core::RpcClient>> conn) {
                             auto it = links_.find(member);
                             if (it == links_.end() || it->second->generation != generation) {
                               if (conn.ok()) conn.value()->close();
                               return;
                             }
                             if (!conn.ok()) {
                               link_failed(member, generation, conn.status());
                               return;
                             }
                             Link& link = *it->second;
                             link.conn = conn.value();
                             link.conn->set_close_handler([this, member, generation](const Status& why) {
                               defer_link_failed(member, generation, why);
                             });
                             send_full_copy(link);
                           });
}

// The copy is taken now, on the io thread, so it and the stream that follows it on the same
// connection are exactly the store's sequence of states.
void CacheServer::send_full_copy(Link& link) {
  link.state = Link::State::syncing;
  link.outbox.clear();  // changes queued while connecting are in the copy
  link.outbox_count = 0;
  link.outbox_ids.clear();
  const std::string member = link.member;
  const std::uint64_t generation = link.generation;
  auto deadline = std::chrono::steady_clock::now() + kLinkCallTimeout * 6;
  auto on_answer = [this, member, generation](bool last) {
    return [this, member, generation, last](Result<std::string> body) {
      const Status s = proto::answer_status(body, "sync answer");
      auto it = links_.find(member);
      if (it == links_.end() || it->second->generation != generation) return;
      if (!s.ok()) {
        defer_link_failed(member, generation, s);
        return;
      }
      if (last) {
        it->second->state = Link::State::catching_up;
        it->second->caught_up_batch = it->second->last_batch;
        maybe_request_add(*it->second);
      }
    };
  };
  proto::Request begin;
  begin.op = static_cast<std::uint8_t>(proto::Op::sync_begin);
  begin.epoch = epoch_;
  link.conn->call(core::encode(begin), deadline, on_answer(false));

  proto::Request chunk;
  chunk.op = static_cast<std::uint8_t>(proto::Op::sync_chunk);
  chunk.epoch = epoch_;
  std::size_t bytes = 0;
  std::size_t keys = 0;
  const std::int64_t now = now_ms();
  store_.for_each([&](const std::string& key, const StoredValue& entry) {
    if (entry.expires_ms != 0 && entry.expires_ms <= now) return;
    proto::Item item;
    item.key = key;
    item.value = entry.value;
    item.version = entry.version;
    item.ttl_ms = entry.expires_ms == 0 ? 0 : entry.expires_ms - now;
    bytes += key.size() + entry.value.size() + 32;
    chunk.items.push_back(std::move(item));
    ++keys;
    if (bytes >= kSyncChunkBytes) {
      link.conn->call(core::encode(chunk), deadline, on_answer(false));
      chunk.items.clear();
      bytes = 0;
    }
  });
  if (!chunk.items.empty()) link.conn->call(core::encode(chunk), deadline, on_answer(false));
  proto::Request end;
  end.op = static_cast<std::uint8_t>(proto::Op::sync_end);
  end.epoch = epoch_;
  link.conn->call(core::encode(end), deadline, on_answer(true));
  spdlog::info("cache {}: sent a full copy of {} keys to {}", self_, keys, member);
}

// A call on a closed connection fails inside call() itself, and a closing connection fails
// its calls from inside close(): never change links_ from there, do it on the next turn.
void CacheServer::defer_link_failed(const std::string& member, std::uint64_t generation, const Status& why) {
  boost::asio::post(io_, [this, member, generation, why] { link_failed(member, generation, why); });
}

void CacheServer::link_failed(const std::string& member, std::uint64_t generation, const Status& why) {
  auto it = links_.find(member);
  if (it == links_.end() || it->second->generation != generation) return;
  spdlog::warn("cache {}: link to backup {} failed: {}", self_, member, why.to_string());
  std::unique_ptr<Link> link = std::move(it->second);
  links_.erase(it);
  // Writes that counted on this backup wait until the park no longer lists it in sync.
  // A link still connecting was never counted and never was in sync; shrinking anyway costs
  // one park read and keeps one rule.
  auto& waiters = shrinks_[member];
  for (const auto& [batch, ids] : link->unacked) waiters.insert(waiters.end(), ids.begin(), ids.end());
  for (auto pid : link->outbox_ids) waiters.push_back(pid);
  if (link->conn) {
    link->conn->set_close_handler(nullptr);
    link->conn->close();
  }
  if (role_ == Role::primary) {
    control_->request_shrink(member, epoch_);
  } else {
    finish_shrink(member, true);
  }
}

void CacheServer::finish_shrink(const std::string& member, bool done) {
  auto it = shrinks_.find(member);
  if (it == shrinks_.end()) return;
  std::vector<std::uint64_t> waiters = std::move(it->second);
  shrinks_.erase(it);
  if (!done) {
    step_down("cannot drop " + member + " from the group's in_sync list");
    return;
  }
  for (auto pid : waiters) ack_one(pid);
  // Still registered: it lives, so give it a fresh copy.
  if (role_ == Role::primary && std::find(members_.begin(), members_.end(), member) != members_.end() &&
      !links_.count(member)) {
    boost::asio::post(io_, [this, member] {
      if (role_ == Role::primary && !links_.count(member) && !shrinks_.count(member) &&
          std::find(members_.begin(), members_.end(), member) != members_.end()) {
        open_link(member);
      }
    });
  }
}

// Closing a connection fails its pending calls, whose callbacks look links up: take the
// links out of the map first, so nothing walks or changes it meanwhile.
void CacheServer::close_links() {
  auto links = std::move(links_);
  links_.clear();
  for (auto& [member, link] : links) {
    (void)member;
    if (link->conn) {
      link->conn->set_close_handler(nullptr);
      link->conn->close();
    }
  }
}

// --- roles ----------------------------------------------------------------------------------

void CacheServer::become(Role role, std::uint64_t epoch, const std::string& primary) {
  if (epoch < epoch_ && role != Role::starting) return;  // an old decision overtaken by a newer epoch
  const Role before = role_;
  if (before == Role::primary && (role != Role::primary || epoch != epoch_)) {
    step_down("the group has a new primary (" + (primary.empty() ? std::string("none yet") : primary) + ")");
  }
  std::unique_lock lock(state_mutex_);
  role_ = role;
  epoch_ = std::max(epoch_, epoch);
  primary_ = primary;
  if (role == Role::backup && synced_epoch_ != epoch) synced_epoch_ = 0;
  if (role == Role::primary) synced_epoch_ = 0;
}

// Fails every write still waiting (it may or may not have reached a backup: the client is
// told it is unknown) and drops the links. Further client calls get not_leader.
void CacheServer::step_down(const std::string& why) {
  if (role_ == Role::primary) spdlog::warn("cache {}: no longer primary: {}", self_, why);
  {
    std::unique_lock lock(state_mutex_);
    role_ = Role::starting;
  }
  for (auto& [pid, pending] : pending_) {
    (void)pid;
    reply_status(pending.connection, pending.request_id,
                 Status(Errc::unavailable, "the primary changed before this write was confirmed by its backups; it "
                                           "may or may not have been applied"));
  }
  pending_.clear();
  shrinks_.clear();
  close_links();
  members_.clear();
  control_->poke();
}

// --- the backup -----------------------------------------------------------------------------

// Replication requests are read straight from their bytes (proto::ByteReader): a batch of
// thousands of changes is applied without building a proto::Item for each.
void CacheServer::handle_replication(const core::RpcConnectionPtr& connection, std::uint64_t id,
                                     std::string_view body) {
  proto::ByteReader reader(body);
  std::uint8_t op_byte = 0;
  std::uint64_t layout_version = 0, epoch = 0, count = 0;
  if (!proto::read_batch_head(reader, op_byte, layout_version, epoch, count)) {
    send_fail(connection, id, Status(Errc::bad_request, "replication request does not decode"));
    return;
  }
  const auto op = static_cast<proto::Op>(op_byte);
  if (op != proto::Op::replicate && op != proto::Op::sync_begin && op != proto::Op::sync_chunk &&
      op != proto::Op::sync_end) {
    send_fail(connection, id, Status(Errc::bad_request, "unknown cache operation " + std::to_string(op_byte)));
    return;
  }
  if (epoch < epoch_) {
    // A deposed primary: refuse, so it cannot have a write acknowledged.
    reply_status(connection, id, Status(Errc::not_leader, "epoch " + std::to_string(epoch) +
                                                            " is over; the group is in epoch " + std::to_string(epoch_)));
    return;
  }
  if (epoch > epoch_) {
    if (role_ == Role::primary) step_down("a primary of epoch " + std::to_string(epoch) + " exists");
    std::unique_lock lock(state_mutex_);
    epoch_ = epoch;
    role_ = Role::backup;
    control_->poke();
  }
  if (role_ == Role::primary) {
    reply_status(connection, id, Status(Errc::not_leader, "this server is the primary of epoch " + std::to_string(epoch_)));
    return;
  }
  const std::int64_t now = now_ms();
  std::unique_lock lock(state_mutex_);
  switch (op) {
    case proto::Op::sync_begin:
      store_.clear();
      synced_epoch_ = 0;
      control_->report_synced(0);
      break;
    case proto::Op::replicate:
    case proto::Op::sync_chunk: {
      // Read the whole batch first, so each key's memory can be fetched a few keys ahead:
      // a batch is hundreds of random keys, and the misses, not the work, were the cost.
      std::vector<proto::ItemView>& items = replica_items_;
      items.resize(count);
      for (std::uint64_t i = 0; i < count; ++i) {
        if (!proto::read_item(reader, items[i])) {
          // Nothing of the batch is applied yet; the link breaks and this backup gets a copy.
          items.clear();
          lock.unlock();
          send_fail(connection, id, Status(Errc::bad_request, "replication item " + std::to_string(i) + " does not decode"));
          return;
        }
      }
      constexpr std::size_t kBucketAhead = 8, kEntryAhead = 4;
      for (std::size_t i = 0; i < items.size() && i < kBucketAhead; ++i) store_.prefetch(items[i].key, 0);
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i + kBucketAhead < items.size()) store_.prefetch(items[i + kBucketAhead].key, 0);
        if (i + kEntryAhead < items.size()) store_.prefetch(items[i + kEntryAhead].key, 1);
        const proto::ItemView& item = items[i];
        if (item.mode == proto::kItemRemove) {
          store_.apply_replica_remove(item.key);
        } else if (Status s = store_.apply_replica(item.key, item.value, item.version,
                                                   item.ttl_ms > 0 ? now + item.ttl_ms : 0);
                   !s.ok()) {
          // Our bound is smaller than the primary's: the value cannot be held here, so this
          // backup cannot be a faithful copy. Refusing breaks the link and drops us from
          // in_sync instead of pretending.
          lock.unlock();
          reply_status(connection, id, s);
          return;
        }
      }
      items.clear();  // views into this request's bytes: keep none past it
      break;
    }
    case proto::Op::sync_end:
      synced_epoch_ = epoch;
      control_->report_synced(epoch);
      spdlog::info("cache {}: full copy of epoch {} received ({} keys)", self_, epoch, store_.size());
      break;
    default:
      break;
  }
  lock.unlock();
  std::string frame = core::frame_buffer();
  core::encode_into(frame, proto::Response{});
  send_reply(connection, id, std::move(frame));
}

}  // namespace fourinone::cache
