// PeerTransport: carries Raft messages from this server to the other members of the group.
//
// DESIGN: runs on the server's io thread. One outgoing RpcClient connection per peer; the
// messages of one Ready for one peer travel as one PeerRequest frame (batching). A peer that
// is down costs nothing but a reconnect attempt now and then: messages for it are dropped,
// which Raft tolerates (it resends from its own state), so there is no unbounded queue.
// Replies travel back on the peer's own connection to us, not as responses to these frames.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/asio.hpp"
#include "core/rpc_client.hpp"
#include "fourinone/config.hpp"
#include "park/protocol/messages.hpp"
#include "park/raft/raft.hpp"

namespace fourinone::park {

class PeerTransport {
 public:
  struct Options {
    raft::NodeId self = 0;
    std::map<raft::NodeId, ServerAddress> peers;  // every member but this one
    core::RpcClientOptions client;                // login and frame limit for peer links
    std::chrono::milliseconds reconnect_every{200};
    std::size_t chunk_bytes = 4u << 20;          // larger requests go in chunks of this size
    std::uint64_t max_transfer_bytes = 64ull << 30;  // refuse to assemble more than this
  };

  PeerTransport(boost::asio::io_context& io, Options options);
  ~PeerTransport();

  // Sends each message to its `to` (grouped per peer, order kept).
  void send(std::vector<raft::Message> messages);
  // Receiving side of chunked requests: the whole request once its last chunk is in, or
  // nothing (more to come, or a bad chunk, which is logged and drops the transfer).
  std::optional<proto::PeerRequest> on_chunk(proto::PeerChunk chunk);
  // The members changed: new ones become reachable (a link whose address changed reopens).
  // Servers no longer named stay reachable for answers (see the .cpp).
  void set_peers(const std::map<raft::NodeId, ServerAddress>& peers);
  // A server that joined a running group learns its id from the leader's first message.
  void set_self(raft::NodeId self) { options_.self = self; }
  // Whether we hold a working connection to the peer right now.
  bool connected(raft::NodeId peer) const;
  void stop();

 private:
  struct Peer {
    ServerAddress address;
    std::shared_ptr<core::RpcClient> conn;
    bool connecting = false;
    std::chrono::steady_clock::time_point next_attempt{};
  };
  void connect(raft::NodeId id, Peer& peer);
  struct Assembly {
    std::uint64_t transfer = 0;
    std::uint32_t next = 0;
    std::uint32_t count = 0;
    std::uint64_t total = 0;
    std::string bytes;
  };
  std::map<raft::NodeId, Assembly> assemblies_;  // one unfinished transfer per sender
  std::uint64_t next_transfer_ = 1;

  boost::asio::io_context& io_;
  Options options_;
  std::map<raft::NodeId, Peer> peers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards callbacks after stop
};

}  // namespace fourinone::park
