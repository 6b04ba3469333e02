// ParkService: the message queue's requests (see park/queue/queue_book.hpp, mq/README.md).
//
// A queue command is checked here, given the leader's clock and the rules of any channel it
// makes (MQ row of this server's config.xml), and proposed like any write. A receive that
// finds nothing to lease waits here, on the leader, in a first-come first-served line per
// (channel, subscriber); when an applied command makes messages available there (a send, a
// nack, a lease that ran out, a consumer's session that ended), the first waiters are
// proposed again. No client polls. A waiter whose wait ends is answered OK with no messages.
#include <spdlog/spdlog.h>

#include "core/wire_archive.hpp"
#include "park/server/park_service.hpp"

namespace fourinone::park {
namespace {

constexpr std::size_t kMaxBatch = 4096;             // bodies in one send, refs in one ack
constexpr std::uint32_t kMaxReceive = 4096;         // messages in one receive
constexpr std::int64_t kMaxWaitMs = 10 * 60 * 1000;  // a receive waits at most this long
constexpr std::size_t kMaxSettlePerTick = 1000;

bool from_client(MqKind kind) { return kind != MqKind::expire_leases && kind != MqKind::age_out; }

}  // namespace

Status ParkService::check_mq(const proto::MqRequest& request) const {
  const MqCommand& c = request.command;
  if (!from_client(c.kind) || static_cast<unsigned>(c.kind) > static_cast<unsigned>(MqKind::age_out) ||
      static_cast<unsigned>(c.kind) == 0) {
    return Status(Errc::bad_request, "clients may not send this kind of queue command");
  }
  if (c.bodies.size() > kMaxBatch || c.refs.size() > kMaxBatch) {
    return Status(Errc::too_large, "at most " + std::to_string(kMaxBatch) + " messages in one request");
  }
  if (c.kind == MqKind::receive && (c.max == 0 || c.max > kMaxReceive)) {
    return Status(Errc::bad_request, "a receive takes 1 to " + std::to_string(kMaxReceive) + " messages");
  }
  std::uint64_t incoming = 0;
  for (std::size_t i = 0; i < c.bodies.size(); ++i) {
    if (c.bodies[i].size() > mq_settings_.max_message) {
      return Status(Errc::too_large, "message " + std::to_string(i) + " has " + std::to_string(c.bodies[i].size()) +
                                         " bytes; the limit is MQ/MAXMESSAGE " + std::to_string(mq_settings_.max_message));
    }
    incoming += c.bodies[i].size() + kMqMessageOverhead;
  }
  const auto& park = options_.config.park;
  auto budget = static_cast<std::uint64_t>(park.safe_memory_per * static_cast<double>(park.max_memory));
  if (c.kind == MqKind::send && store_.bytes() + incoming > budget) {
    return Status(Errc::park_full, "the park holds " + std::to_string(store_.bytes()) + " bytes; the limit is " +
                                       std::to_string(budget) + " (SAFEMEMORYPER x MAXMEMORY); consume messages first");
  }
  return {};
}

void ParkService::handle_mq(const core::RpcConnectionPtr& conn, std::uint64_t id, proto::MqRequest&& request) {
  if (Status s = check_mq(request); !s.ok()) {
    proto::Response response;
    response.status = s;
    response.revision = store_.revision();
    answer(conn, id, response);
    return;
  }
  auto pending = std::make_shared<PendingMq>();
  pending->conn = conn;
  pending->conn_id = conn.get();
  pending->id = id;
  Command& command = pending->command;
  command.kind = CommandKind::mq;
  command.caller = conn->identity();
  command.host = conn->peer().substr(0, conn->peer().rfind(':'));
  command.client_id = conn->client_id();
  command.seq = request.seq;
  command.acked_below = request.acked_below;
  command.mq = std::move(request.command);
  command.mq->rules = rules_for(mq_settings_, command.mq->channel, request.options);
  auto wait = std::chrono::milliseconds(std::clamp<std::int64_t>(request.wait_ms, 0, kMaxWaitMs));
  pending->wait_until = std::chrono::steady_clock::now() + wait;
  if (command.mq->kind == MqKind::receive && wait.count() > 0) {
    if (!log_.is_leader()) return reply_not_leader(conn, id, Status(Errc::not_leader, "receive on a follower"));
    const MqChannel* ch = store_.queues().find(command.mq->channel);
    bool known = ch != nullptr && ch->topic == command.mq->topic && ch->cursors.count(command.mq->subscriber);
    // Nothing to lease now: wait. (Unknown channels and subscriptions are proposed, so the
    // queue is made or the error comes back.)
    if (known && store_.queues().available(command.mq->channel, command.mq->subscriber, 1) == 0) {
      return wait_for_messages(std::move(pending));
    }
  }
  propose_mq(std::move(pending));
}

void ParkService::propose_mq(std::shared_ptr<PendingMq> pending) {
  Command command = pending->command;
  command.now_ms = now_ms();
  if (command.mq->kind == MqKind::send) attach_waiters(*pending, *command.mq);
  log_.propose(std::move(command), [this, pending](const ApplyResult& result) {
    if (!pending->handoffs.empty()) finish_handoffs(*pending, result);
    auto conn = pending->conn.lock();
    if (!conn || !conn->is_open()) return;  // the client resends with the same seq
    const MqCommand& c = *pending->command.mq;
    if (c.kind == MqKind::receive && result.status.ok() && result.mq.delivered.empty() && !stopping_ &&
        log_.is_leader() && std::chrono::steady_clock::now() < pending->wait_until) {
      return wait_for_messages(pending);  // another receiver was quicker
    }
    reply_mq(pending, result);
  });
}

void ParkService::attach_waiters(PendingMq& send, MqCommand& command) {
  for (auto line = waiting_.lower_bound(MqKey{command.channel, ""});
       line != waiting_.end() && line->first.first == command.channel;) {
    // Each subscription of a topic gets every message; a queue's one line shares them.
    std::size_t budget = command.bodies.size();
    while (budget > 0 && !line->second.empty()) {
      std::shared_ptr<PendingMq> p = std::move(line->second.front());
      line->second.pop_front();
      p->timer.reset();  // cancels its wait
      if (auto conn = p->conn.lock(); !conn || !conn->is_open()) continue;
      const Command& receive = p->command;
      budget -= std::min<std::size_t>(budget, receive.mq->max);
      command.handoffs.push_back(MqHandoff{receive.client_id, receive.seq, receive.acked_below, receive.mq->subscriber,
                                           receive.mq->max, receive.mq->session});
      send.handoffs.push_back(std::move(p));
    }
    line = line->second.empty() ? waiting_.erase(line) : std::next(line);
  }
}

void ParkService::finish_handoffs(PendingMq& send, const ApplyResult& result) {
  auto handoffs = std::move(send.handoffs);
  send.handoffs.clear();
  for (auto& p : handoffs) {
    auto conn = p->conn.lock();
    if (!conn || !conn->is_open()) continue;  // the client resends; its seq finds the leases
    if (result.status.code() == Errc::not_leader) {
      reply_not_leader(conn, p->id, result.status);
      continue;
    }
    const MqHandoffResult* got = nullptr;
    for (const auto& h : result.mq.handoffs) {
      if (h.client_id == p->command.client_id && h.seq == p->command.seq) got = &h;
    }
    if (got != nullptr && (got->code != 0 || !got->delivered.empty())) {
      ApplyResult answer;
      if (got->code != 0) answer.status = Status(static_cast<Errc>(got->code), got->message);
      answer.revision = result.revision;
      answer.mq.delivered = got->delivered;
      reply_mq(p, answer);
    } else if (!stopping_ && log_.is_leader() && std::chrono::steady_clock::now() < p->wait_until) {
      wait_for_messages(std::move(p));  // the send failed, or others took the messages
    } else {
      ApplyResult nothing;
      nothing.revision = result.revision;
      reply_mq(p, nothing);
    }
  }
}

void ParkService::reply_mq(const std::shared_ptr<PendingMq>& pending, const ApplyResult& result) {
  auto conn = pending->conn.lock();
  if (!conn || !conn->is_open()) return;
  proto::Response response;
  response.status = result.status;
  if (result.status.code() == Errc::not_leader) response.leader = log_.leader_address();
  response.revision = result.revision;
  response.mq.emplace();
  // Only what is this client's: never the handoffs (other clients' messages) or wake-ups.
  response.mq->result.offsets = result.mq.offsets;
  response.mq->result.delivered = result.mq.delivered;
  response.mq->result.applied = result.mq.applied;
  answer(conn, pending->id, response);
}

void ParkService::wait_for_messages(std::shared_ptr<PendingMq> pending) {
  const MqCommand& c = *pending->command.mq;
  MqKey key{c.channel, c.subscriber};
  pending->timer = std::make_unique<boost::asio::steady_timer>(io_, pending->wait_until);
  std::weak_ptr<PendingMq> weak = pending;
  pending->timer->async_wait([this, weak, key](const boost::system::error_code& ec) {
    auto p = weak.lock();
    if (ec || !p) return;
    auto line = waiting_.find(key);
    if (line != waiting_.end()) {
      std::erase(line->second, p);
      if (line->second.empty()) waiting_.erase(line);
    }
    ApplyResult nothing;  // the wait ended: OK, no messages
    nothing.revision = store_.revision();
    reply_mq(p, nothing);
  });
  waiting_[key].push_back(std::move(pending));
}

void ParkService::wake_receivers(const MqResult& result) {
  if (!log_.is_leader()) return;
  bool first = to_wake_.empty();
  for (const auto& key : result.woken) {
    if (waiting_.count(key)) to_wake_.insert(key);
  }
  if (!first || to_wake_.empty()) return;
  boost::asio::post(io_, [this] {
    std::set<MqKey> keys = std::move(to_wake_);
    to_wake_.clear();
    for (const MqKey& key : keys) {
      auto line = waiting_.find(key);
      if (line == waiting_.end()) continue;
      // Wake as many receivers, in line order, as the messages now available can serve.
      std::size_t available = store_.queues().available(key.first, key.second, kMaxReceive);
      while (available > 0 && !line->second.empty()) {
        std::shared_ptr<PendingMq> p = std::move(line->second.front());
        line->second.pop_front();
        p->timer.reset();  // cancels its wait
        auto conn = p->conn.lock();
        if (!conn || !conn->is_open()) continue;
        available -= std::min<std::size_t>(available, p->command.mq->max);
        propose_mq(std::move(p));
      }
      if (line->second.empty()) waiting_.erase(line);
    }
  });
}

void ParkService::drop_waiters(const core::RpcConnection* conn) {
  for (auto line = waiting_.begin(); line != waiting_.end();) {
    std::erase_if(line->second, [conn](const std::shared_ptr<PendingMq>& p) { return p->conn_id == conn; });
    line = line->second.empty() ? waiting_.erase(line) : std::next(line);
  }
}

void ParkService::fail_waiters(const Status& why) {
  auto lines = std::move(waiting_);
  waiting_.clear();
  for (auto& [key, line] : lines) {
    for (auto& p : line) {
      p->timer.reset();
      auto conn = p->conn.lock();
      if (!conn || !conn->is_open()) continue;
      if (why.code() == Errc::not_leader) {
        reply_not_leader(conn, p->id, why);
      } else {
        ApplyResult failed;
        failed.status = why;
        reply_mq(p, failed);
      }
    }
  }
}

void ParkService::mq_tick(std::int64_t now) {
  // Leases that ran out, and messages past their channel's max_age, go through the log
  // like everything else; apply checks again, so a lease extended meanwhile stays.
  auto propose = [this, now](MqKind kind, std::vector<MqLeaseRef> refs, bool& in_flight) {
    Command c;
    c.kind = CommandKind::mq;
    c.now_ms = now;
    c.caller = "park";
    c.host = options_.self.host;
    c.mq.emplace();
    c.mq->kind = kind;
    c.mq->refs = std::move(refs);
    in_flight = true;
    log_.propose(std::move(c), [&in_flight](const ApplyResult& result) {
      in_flight = false;
      if (!result.status.ok()) spdlog::warn("queue expiry failed: {}", result.status.to_string());
    });
  };
  if (!lease_expiry_in_flight_) {
    auto due = store_.queues().expired_leases(now, kMaxSettlePerTick);
    if (!due.empty()) propose(MqKind::expire_leases, std::move(due), lease_expiry_in_flight_);
  }
  if (!age_out_in_flight_) {
    auto aged = store_.queues().aged_messages(now, kMaxSettlePerTick);
    if (!aged.empty()) propose(MqKind::age_out, std::move(aged), age_out_in_flight_);
  }
}

void ParkService::handle_mq_read(const core::RpcConnectionPtr& conn, std::uint64_t id, proto::MqReadRequest&& request) {
  if (request.stale) return serve_mq_read(conn, id, request);
  std::weak_ptr<core::RpcConnection> weak = conn;
  log_.read_barrier([this, weak, id, request = std::move(request)](const Status& status) {
    auto c = weak.lock();
    if (!c || !c->is_open()) return;
    if (status.code() == Errc::not_leader) return reply_not_leader(c, id, status);
    if (!status.ok()) {
      proto::Response response;
      response.status = status;
      answer(c, id, response);
      return;
    }
    serve_mq_read(c, id, request);
  });
}

void ParkService::serve_mq_read(const core::RpcConnectionPtr& conn, std::uint64_t id,
                                const proto::MqReadRequest& request) {
  proto::Response response;
  response.revision = store_.revision();
  response.mq.emplace();
  if (request.channel.empty()) {
    response.mq->channels = store_.queues().names();
  } else if (auto stats = store_.queues().stats(request.channel, now_ms())) {
    response.mq->stats = std::move(stats);
  } else {
    response.status = Status(Errc::not_found, "channel '" + request.channel + "' does not exist");
  }
  answer(conn, id, response);
}

}  // namespace fourinone::park
