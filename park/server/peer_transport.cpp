#include "park/server/peer_transport.hpp"

#include <spdlog/spdlog.h>

#include "core/wire_archive.hpp"
#include "park/protocol/messages.hpp"
#include "park/protocol/peer_messages.hpp"

namespace fourinone::park {

PeerTransport::PeerTransport(boost::asio::io_context& io, Options options) : io_(io), options_(std::move(options)) {
  for (const auto& [id, address] : options_.peers) peers_[id].address = address;
}

PeerTransport::~PeerTransport() { stop(); }

void PeerTransport::stop() {
  *alive_ = false;
  for (auto& [id, peer] : peers_) {
    if (peer.conn) peer.conn->close();
    peer.conn.reset();
  }
}

void PeerTransport::set_peers(const std::map<raft::NodeId, ServerAddress>& peers) {
  // Servers that left keep their entry: one removed a moment ago (a leader that removed itself
  // is the common case) still waits for our answers to what it sent, and ids are never
  // reused, so its address cannot come to mean someone else. Nothing is sent to it unprompted.
  for (const auto& [id, address] : peers) {
    Peer& peer = peers_[id];
    if (peer.address == address) continue;
    if (peer.conn) peer.conn->close();  // moved (a route changed): the next send reconnects
    peer.conn.reset();
    peer.address = address;
  }
}

bool PeerTransport::connected(raft::NodeId id) const {
  auto it = peers_.find(id);
  return it != peers_.end() && it->second.conn && it->second.conn->is_open();
}

void PeerTransport::send(std::vector<raft::Message> messages) {
  if (!*alive_) return;
  std::map<raft::NodeId, proto::PeerRequest> batches;
  for (auto& m : messages) {
    auto& batch = batches[m.to];
    batch.from = options_.self;
    batch.messages.push_back(std::move(m));
  }
  for (auto& [to, batch] : batches) {
    auto it = peers_.find(to);
    if (it == peers_.end()) {
      spdlog::error("raft message for unknown server id {} dropped", to);
      continue;
    }
    Peer& peer = it->second;
    if (!peer.conn || !peer.conn->is_open()) {
      connect(to, peer);  // this batch is lost; Raft sends again from its own state
      continue;
    }
    std::string body = core::encode(proto::Request(std::move(batch)));
    // One-way: Raft learns of a lost message from its own timers and resends from its state,
    // so an empty acknowledgement per batch would cost a frame each way and tell nothing; a
    // broken link shows as a closed connection.
    if (body.size() <= options_.chunk_bytes) {
      peer.conn->notify(body);
      continue;
    }
    proto::PeerChunk chunk;
    chunk.from = options_.self;
    chunk.transfer = next_transfer_++;
    chunk.count = static_cast<std::uint32_t>((body.size() + options_.chunk_bytes - 1) / options_.chunk_bytes);
    chunk.total_bytes = body.size();
    for (std::uint32_t i = 0; i < chunk.count; ++i) {
      chunk.index = i;
      chunk.bytes = body.substr(i * options_.chunk_bytes, options_.chunk_bytes);
      peer.conn->notify(core::encode(proto::Request(chunk)));
    }
  }
}

std::optional<proto::PeerRequest> PeerTransport::on_chunk(proto::PeerChunk chunk) {
  Assembly& a = assemblies_[chunk.from];
  if (chunk.index == 0) {
    if (chunk.count == 0 || chunk.total_bytes > options_.max_transfer_bytes) {
      spdlog::warn("peer {}: refusing a chunked request of {} bytes in {} chunks", chunk.from, chunk.total_bytes,
                   chunk.count);
      assemblies_.erase(chunk.from);
      return std::nullopt;
    }
    a = Assembly{chunk.transfer, 0, chunk.count, chunk.total_bytes, {}};
    a.bytes.reserve(static_cast<std::size_t>(chunk.total_bytes));
  }
  if (chunk.transfer != a.transfer || chunk.index != a.next || chunk.count != a.count ||
      a.bytes.size() + chunk.bytes.size() > a.total) {
    // A chunk out of order (a reconnect cut the transfer): drop it; Raft sends again.
    spdlog::debug("peer {}: dropping chunk {}/{} of transfer {}", chunk.from, chunk.index, chunk.count, chunk.transfer);
    assemblies_.erase(chunk.from);
    return std::nullopt;
  }
  a.bytes += chunk.bytes;
  if (++a.next < a.count) return std::nullopt;
  std::string body = std::move(a.bytes);
  assemblies_.erase(chunk.from);
  proto::Request request;
  if (Status s = core::decode(body, request, "chunked peer request"); !s.ok() ||
      !std::holds_alternative<proto::PeerRequest>(request)) {
    spdlog::warn("peer {}: a chunked request does not decode: {}", chunk.from, s.message());
    return std::nullopt;
  }
  return std::get<proto::PeerRequest>(std::move(request));
}

void PeerTransport::connect(raft::NodeId id, Peer& peer) {
  auto now = std::chrono::steady_clock::now();
  if (peer.connecting || now < peer.next_attempt) return;
  peer.connecting = true;
  peer.next_attempt = now + options_.reconnect_every;
  std::weak_ptr<bool> alive = alive_;
  core::RpcClient::connect(io_, peer.address, options_.client,
                           [this, alive, id](Result<std::shared_ptr<core::RpcClient>> r) {
                             if (alive.expired() || !*alive.lock()) {
                               if (r.ok()) r.value()->close();
                               return;
                             }
                             Peer& p = peers_[id];
                             p.connecting = false;
                             if (!r.ok()) {
                               spdlog::debug("peer {} ({}) unreachable: {}", id, p.address.to_string(),
                                             r.status().message());
                               return;
                             }
                             p.conn = std::move(r).value();
                             spdlog::info("connected to peer {} ({})", id, p.address.to_string());
                           });
}

}  // namespace fourinone::park
