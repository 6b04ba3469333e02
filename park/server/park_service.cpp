#include "park/server/park_service.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "core/auth.hpp"
#include "core/wire_archive.hpp"
#include "park/server/exposure.hpp"
#include "park/server/member_id.hpp"

namespace fourinone::park {
namespace {

constexpr auto kTickPeriod = std::chrono::milliseconds(100);
constexpr std::size_t kMaxOpsPerTxn = 1024;
constexpr std::size_t kMaxExpirePerTick = 1000;
constexpr std::size_t kHistoryBytes = 64u << 20;
constexpr std::int64_t kMinSessionTimeoutMs = 200;
constexpr std::int64_t kMaxSessionTimeoutMs = 10 * 60 * 1000;

std::string host_of(const std::string& peer) { return peer.substr(0, peer.rfind(':')); }

bool writes_data(const Op& op) {
  return op.kind == OpKind::create || op.kind == OpKind::create_sequential || op.kind == OpKind::update;
}

// The login the other servers of the group use (core::kGroupUser with the group key).
std::optional<UserEntry> group_login(const ParkConfig& park) {
  if (park.group_key.empty()) return std::nullopt;
  return core::make_user_entry(std::string(core::kGroupUser), park.group_key);
}

}  // namespace

ParkService::ParkService(const ParkServerOptions& options, MqSettings mq_settings, Recovered recovered,
                         std::unique_ptr<LogStorage> log, DataDirLock dir_lock, raft::NodeId member_id,
                         std::string data_dir)
    : dir_lock_(std::move(dir_lock)),
      options_(options),
      member_id_(member_id),
      data_dir_(std::move(data_dir)),
      signals_(io_),
      store_(std::move(recovered.store)),
      rpc_(io_, *this,
           core::RpcServerOptions{options.self.to_string(),
                                  static_cast<std::uint32_t>(options.config.park.max_value + (1u << 20)),
                                  options.config.park.users, std::chrono::milliseconds(5000),
                                  group_login(options.config.park), core::TlsContext::for_server(options.config),
                                  net_stats_}),
      hub_(io_, store_, kHistoryBytes),
      log_(io_, std::move(log), std::move(recovered.restore), log_options(),
           ReplicatedLog::Callbacks{[this](const Command& c) { return apply(c); }, [this] { return store_.save(); },
                                    [this](const std::string& data) { return load_snapshot(data); },
                                    [this](raft::Role role, raft::NodeId, std::uint64_t) { on_role_changed(role); },
                                    [this](const Status& why) { on_storage_failed(why); }}),
      tick_timer_(io_),
      clear_timer_(io_),
      mq_settings_(std::move(mq_settings)) {
  // A restarted (or newly elected) server gives every session a fresh full timeout plus the
  // rescue period: clients get time to reconnect before their heartbeat nodes go.
  sessions_.reset_all(store_.sessions(), now_ms(), options_.config.park.max_delay.count());
}

ReplicatedLog::Options ParkService::log_options() const {
  ReplicatedLog::Options o;
  o.servers = options_.config.park.servers;
  o.self = member_id_;
  o.save_self = [dir = data_dir_](raft::NodeId id) { return write_member_id(dir, id); };
  o.snapshot_every = options_.config.park.snapshot_entries;
  o.lease_reads = options_.config.park.lease_reads;
  o.routes = options_.peer_routes;
  // Links to peers log in with the group key (PARK/GROUPKEY), and carry the same frame limit
  // as client requests. Without a group key there is nothing to prove.
  o.peer_client.client_id = 0x5045455200000000ull | o.self;  // "PEER" + id: readable in logs
  if (!options_.config.park.group_key.empty()) {
    o.peer_client.user = std::string(core::kGroupUser);
    o.peer_client.password = options_.config.park.group_key;
  }
  o.peer_client.max_frame = static_cast<std::uint32_t>(options_.config.park.max_value + (1u << 20));
  o.peer_client.tls = core::TlsContext::for_client(options_.config.park.tls);  // the peers' TLS too
  return o;
}

Status ParkService::load_snapshot(const std::string& data) {
  auto loaded = Store::load(data, StoreLimits{options_.config.park.max_name, options_.config.park.max_value});
  if (!loaded.ok()) return loaded.status();
  store_ = std::move(loaded).value();
  // The history behind the watches has a hole now: every watcher re-reads (resync).
  hub_.resync_all();
  sessions_.reset_all(store_.sessions(), now_ms(), options_.config.park.max_delay.count());
  return {};
}

void ParkService::on_role_changed(raft::Role role) {
  if (role == raft::Role::leader) {
    // A new leader gives every session a fresh full timeout plus the rescue period (MAXDELAY):
    // clients need time to find us before their heartbeat nodes go (DESIGN §4.2).
    sessions_.reset_all(store_.sessions(), now_ms(), options_.config.park.max_delay.count());
    expiring_sessions_.clear();
    ttl_in_flight_ = false;
    lease_expiry_in_flight_ = false;
    age_out_in_flight_ = false;
  } else {
    // Waiting receivers go to the new leader (the client resends on not_leader).
    fail_waiters(Status(Errc::not_leader, "this server stopped leading"));
  }
}

ParkService::~ParkService() = default;

std::int64_t ParkService::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Loopback is reachable from this machine only; any other address from the network.
void ParkService::warn_if_open() const {
  if (auto warning = exposure_warning(options_.config, options_.self)) spdlog::warn("{}", *warning);
}

// With a group key, only a connection that logged in with it carries Raft messages: anyone
// else could vote, or send entries as a leader of a higher term, and take the group's log.
bool ParkService::may_speak_for_a_server(const core::RpcConnectionPtr& conn) {
  if (options_.config.park.group_key.empty() || conn->is_group_member()) return true;
  spdlog::warn("{}: raft messages from a connection that did not log in with the group key (user '{}') refused",
               conn->peer(), conn->user());
  conn->fail(0, Status(Errc::no_permission,
                       "only park servers of this group (logged in with PARK/GROUPKEY) may send raft messages"));
  return false;
}

Status ParkService::listen() {
  if (Status s = rpc_.listen(options_.self.host, options_.self.port); !s.ok()) return s;
  if (auto address = http_address(options_)) {
    http_ = std::make_unique<ParkHttp>(*this, io_);
    if (Status s = http_->start(*address); !s.ok()) return s;
  }
  warn_if_open();
  log_.start();
  schedule_tick();
  if (double hours = options_.config.park.clear_period_hours; hours > 0) {
    // The first run comes soon after start (5 s, or one period if that is shorter).
    auto period = std::chrono::milliseconds(static_cast<std::int64_t>(hours * 3600.0 * 1000.0));
    schedule_clear(std::min<std::chrono::milliseconds>(std::chrono::seconds(5), period));
  }
  return {};
}

void ParkService::run() {
  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    stop();
  });
  spdlog::info("park server {} serving (revision {}, {} nodes, {} sessions)", options_.self.to_string(),
               store_.revision(), store_.node_count(), store_.sessions().size());
  io_.run();
  // After the io loop: a page waiting for this thread gives up within its deadline.
  if (http_) http_->stop();
}

// A server that cannot write its log is of no use to the group and must not pretend otherwise:
// it stops, and its supervisor (fourinone up, systemd) starts it again, which recovers from
// what is on disk once there is space. Every acknowledged write is on a majority's disks.
void ParkService::on_storage_failed(const Status& why) {
  storage_failure_ = why;
  spdlog::critical("stopping: {}; free the disk (or fix the device) and start the server again: it recovers "
                   "from its log, and the group keeps every acknowledged write",
                   why.message());
  stop();
}

void ParkService::stop() {
  boost::asio::post(io_, [this] {
    if (stopping_) return;
    stopping_ = true;
    tick_timer_.cancel();
    clear_timer_.cancel();
    fail_waiters(Status(Errc::unavailable, "server shutting down"));
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    // A leader hands over first, so the group does not wait out an election timeout.
    log_.shutdown(std::chrono::milliseconds(2000), [this] {
      rpc_.stop();
      io_.stop();
    });
  });
}

void ParkService::on_close(const core::RpcConnectionPtr& conn) {
  hub_.remove_connection(conn.get());
  drop_waiters(conn.get());
}

void ParkService::on_request(const core::RpcConnectionPtr& conn, std::uint64_t id, std::string_view body) {
  proto::Request request;
  if (Status s = core::decode(body, request, "request"); !s.ok()) {
    spdlog::warn("garbage request from {}: {}", conn->peer(), s.message());
    conn->fail(id, s);
    return;
  }
  requests_by_kind_[request.index()].add();
  // While stopping, peers still get through: a leader hands over during shutdown.
  if (stopping_ && !std::holds_alternative<proto::PeerRequest>(request) &&
      !std::holds_alternative<proto::PeerChunk>(request)) {
    proto::Response r;
    r.status = Status(Errc::unavailable, "server shutting down");
    answer(conn, id, r);
    return;
  }
  std::visit(
      [&](auto&& req) {
        using T = std::decay_t<decltype(req)>;
        proto::Response response;
        response.revision = store_.revision();
        if constexpr (std::is_same_v<T, proto::WriteRequest>) {
          handle_write(conn, id, std::move(req));
          return;
        } else if constexpr (std::is_same_v<T, proto::GetRequest> || std::is_same_v<T, proto::ListRequest> ||
                             std::is_same_v<T, proto::LatestRequest>) {
          if (req.stale) {
            proto::Request request(std::move(req));
            serve_read(conn, id, request);  // this server's store as it is, any role
          } else {
            handle_read(conn, id, proto::Request(std::move(req)));
          }
          return;
        } else if constexpr (std::is_same_v<T, proto::WatchRequest>) {
          if (!log_.is_leader()) return reply_not_leader(conn, id, Status(Errc::not_leader, "watch on a follower"));
          // The reply (with the start revision) goes first, then any replayed history.
          response.revision = store_.revision();
          answer(conn, id, response);
          hub_.add_watch(conn, req);
          return;
        } else if constexpr (std::is_same_v<T, proto::UnwatchRequest>) {
          hub_.remove_watch(conn, req.watch_id);
        } else if constexpr (std::is_same_v<T, proto::HeartbeatRequest>) {
          // Only the leader keeps session liveness (DESIGN §4.2).
          if (!log_.is_leader()) return reply_not_leader(conn, id, Status(Errc::not_leader, "heartbeat to a follower"));
          if (!sessions_.touch(req.session, now_ms()) || expiring_sessions_.count(req.session)) {
            response.status = Status(Errc::session_expired, "session " + std::to_string(req.session) + " has expired");
          }
        } else if constexpr (std::is_same_v<T, proto::MqRequest>) {
          handle_mq(conn, id, std::move(req));
          return;
        } else if constexpr (std::is_same_v<T, proto::MqReadRequest>) {
          handle_mq_read(conn, id, std::move(req));
          return;
        } else if constexpr (std::is_same_v<T, proto::StatusRequest>) {
          handle_status(conn, id);
          return;
        } else if constexpr (std::is_same_v<T, proto::MemberRequest>) {
          handle_member(conn, id, req);
          return;
        } else if constexpr (std::is_same_v<T, proto::PeerRequest> || std::is_same_v<T, proto::PeerChunk>) {
          if (!may_speak_for_a_server(conn)) return;
          if (req.from == 0) {
            // Peers send one-way (id 0): nobody would read the answer, so say it here too.
            spdlog::warn("{}: raft messages from unknown server id {} dropped", conn->peer(), req.from);
            response.status = Status(Errc::bad_request, "raft messages from unknown server id " + std::to_string(req.from));
          } else if constexpr (std::is_same_v<T, proto::PeerRequest>) {
            log_.on_peer_messages(req.from, std::move(req.messages));
          } else {
            log_.on_peer_chunk(std::move(req));
          }
        }
        answer(conn, id, response);
      },
      request);
}

Status ParkService::check_write(const proto::WriteRequest& request) const {
  const auto& park = options_.config.park;
  if (request.kind == CommandKind::open_session || request.kind == CommandKind::close_session) return {};
  if (request.kind != CommandKind::txn) {
    return Status(Errc::bad_request, "clients may not send this kind of command");
  }
  if (request.ops.empty()) return Status(Errc::bad_request, "a write needs at least one op");
  if (request.ops.size() > kMaxOpsPerTxn) {
    return Status(Errc::too_large, "a transaction may hold at most " + std::to_string(kMaxOpsPerTxn) + " ops");
  }
  std::uint64_t incoming = 0;
  bool adds_data = false;
  for (std::size_t i = 0; i < request.ops.size(); ++i) {
    const Op& op = request.ops[i];
    if (op.value.size() > park.max_value) {
      return Status(Errc::too_large, "op " + std::to_string(i) + ": value of " + std::to_string(op.value.size()) +
                                         " bytes exceeds MAXVALUE " + std::to_string(park.max_value));
    }
    incoming += op.value.size();
    adds_data = adds_data || writes_data(op);
  }
  // The memory guard (SAFEMEMORYPER): refuse new data, never deletes or reads.
  auto budget = static_cast<std::uint64_t>(park.safe_memory_per * static_cast<double>(park.max_memory));
  if (adds_data && store_.bytes() + incoming > budget) {
    return Status(Errc::park_full, "the park holds " + std::to_string(store_.bytes()) + " bytes; the limit is " +
                                       std::to_string(budget) + " (SAFEMEMORYPER x MAXMEMORY); delete data first");
  }
  return {};
}

void ParkService::handle_write(const core::RpcConnectionPtr& conn, std::uint64_t id, proto::WriteRequest&& request) {
  if (Status s = check_write(request); !s.ok()) {
    proto::Response response;
    response.status = s;
    response.revision = store_.revision();
    answer(conn, id, response);
    return;
  }
  Command command;
  command.kind = request.kind;
  command.caller = conn->identity();
  command.host = host_of(conn->peer());
  command.client_id = conn->client_id();
  command.seq = request.seq;
  command.acked_below = request.acked_below;
  command.now_ms = now_ms();
  command.ops = std::move(request.ops);
  command.session = request.session;
  command.session_timeout_ms =
      std::clamp(request.session_timeout_ms > 0 ? request.session_timeout_ms
                                                : static_cast<std::int64_t>(options_.config.park.session_timeout.count()),
                 kMinSessionTimeoutMs, kMaxSessionTimeoutMs);
  std::weak_ptr<core::RpcConnection> weak = conn;
  const auto started = std::chrono::steady_clock::now();
  log_.propose(std::move(command), [this, weak, id, started](const ApplyResult& result) {
    write_seconds_.observe(std::chrono::steady_clock::now() - started);
    auto c = weak.lock();
    if (!c || !c->is_open()) return;  // the client will retry with the same seq
    proto::Response response;
    response.status = result.status;
    if (result.status.code() == Errc::not_leader) response.leader = log_.leader_address();
    response.revision = result.revision;
    response.results = result.results;
    response.failed_op = result.failed_op;
    response.session = result.session;
    answer(c, id, response);
  });
}

void ParkService::admin_change(const std::string& user, Op op, std::function<void(const Status&)> done) {
  if (!log_.is_leader()) {
    const std::string leader = log_.leader_address();
    return done(Status(Errc::not_leader, leader.empty() ? "no leader known yet" : "the leader is " + leader));
  }
  proto::WriteRequest request;
  request.kind = CommandKind::txn;
  request.ops.push_back(std::move(op));
  if (Status s = check_write(request); !s.ok()) return done(s);
  Command command;
  command.kind = CommandKind::txn;
  command.caller = user;
  command.host = "http";
  command.now_ms = now_ms();
  command.ops = std::move(request.ops);
  spdlog::info("status page: {} {} {}/{}", user,
               command.ops.front().kind == OpKind::remove ? "deletes" : "writes", command.ops.front().domain,
               command.ops.front().node);
  log_.propose(std::move(command), [done = std::move(done)](const ApplyResult& result) { done(result.status); });
}

ApplyResult ParkService::apply(const Command& command) {
  ApplyResult result = store_.apply(command);
  if (result.status.ok()) {
    switch (command.kind) {
      case CommandKind::open_session:
        if (result.session) sessions_.add(result.session, command.session_timeout_ms, now_ms());
        break;
      case CommandKind::close_session:
      case CommandKind::expire_session:
        sessions_.remove(command.session);
        break;
      default:
        break;
    }
  }
  if (command.kind == CommandKind::expire_session) expiring_sessions_.erase(command.session);
  hub_.publish(result.events);
  if (!result.mq.woken.empty()) wake_receivers(result.mq);
  return result;
}

void ParkService::propose_internal(Command command) {
  command.now_ms = now_ms();
  command.caller = "park";
  command.host = options_.self.host;
  auto kind = command.kind;
  log_.propose(std::move(command), [kind, this](const ApplyResult& result) {
    if (kind == CommandKind::expire_nodes) ttl_in_flight_ = false;
    if (!result.status.ok()) spdlog::warn("internal command failed: {}", result.status.to_string());
  });
}

void ParkService::schedule_tick() {
  tick_timer_.expires_after(kTickPeriod);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    on_tick();
    schedule_tick();
  });
}

void ParkService::on_tick() {
  // Only the leader decides that time is up; everyone applies its decisions (STYLE §3).
  if (!log_.is_leader()) return;
  auto now = now_ms();
  for (auto session : sessions_.expired(now)) {
    if (!expiring_sessions_.insert(session).second) continue;
    spdlog::warn("session {} regarded as dead: no heartbeat within its timeout", session);
    Command c;
    c.kind = CommandKind::expire_session;
    c.session = session;
    propose_internal(std::move(c));
  }
  mq_tick(now);
  if (!ttl_in_flight_) {
    auto due = store_.ttl_expired(now, kMaxExpirePerTick);
    if (!due.empty()) {
      ttl_in_flight_ = true;
      Command c;
      c.kind = CommandKind::expire_nodes;
      c.targets = std::move(due);
      propose_internal(std::move(c));
    }
  }
}

void ParkService::schedule_clear(std::chrono::milliseconds delay) {
  clear_timer_.expires_after(delay);
  clear_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    const auto& park = options_.config.park;
    if (!log_.is_leader()) {
      schedule_clear(std::chrono::milliseconds(static_cast<std::int64_t>(park.clear_period_hours * 3600.0 * 1000.0)));
      return;
    }
    auto cutoff = now_ms() - static_cast<std::int64_t>(park.expiration_hours * 3600.0 * 1000.0);
    auto old = store_.created_before(cutoff, 100'000);
    if (!old.empty()) {
      spdlog::info("clear task: deleting {} nodes created more than {} hours ago", old.size(), park.expiration_hours);
      for (std::size_t i = 0; i < old.size(); i += kMaxExpirePerTick) {
        Command c;
        c.kind = CommandKind::expire_nodes;
        auto end = std::min(old.size(), i + kMaxExpirePerTick);
        c.targets.assign(old.begin() + static_cast<std::ptrdiff_t>(i), old.begin() + static_cast<std::ptrdiff_t>(end));
        propose_internal(std::move(c));
      }
    }
    schedule_clear(std::chrono::milliseconds(static_cast<std::int64_t>(park.clear_period_hours * 3600.0 * 1000.0)));
  });
}

void ParkService::handle_status(const core::RpcConnectionPtr& conn, std::uint64_t id) {
  proto::Response response;
  ParkStatus info = status_info();
  response.revision = info.revision;
  response.info = std::move(info);
  answer(conn, id, response);
}

void ParkService::answer(const core::RpcConnectionPtr& conn, std::uint64_t id, const proto::Response& response) {
  answers_by_result_[static_cast<std::size_t>(response.status.code())].add();
  conn->reply(id, core::encode(response));
}

ParkStatus ParkService::status_info() const {
  ParkStatus info;
  info.server = options_.self.to_string();
  info.role = log_.failed() ? "failed" : raft::role_name(log_.role());
  info.leader = log_.leader_address();
  info.term = log_.term();
  info.revision = store_.revision();
  info.commit_index = log_.commit_index();
  info.sessions = store_.sessions().size();
  info.domains = store_.domain_count();
  info.nodes = store_.node_count();
  info.bytes = store_.bytes();
  for (const auto& member : log_.members()) {
    MemberStatus m;
    m.id = member.id;
    m.voter = member.voter;
    m.address = member.address.to_string();
    bool is_leader = m.address == info.leader;
    if (member.id == log_.self()) {
      m.role = member.voter ? info.role : "learner";
      m.healthy = !log_.failed();
    } else if (log_.is_leader()) {
      // The leader knows: a follower it heard from within an election timeout is healthy.
      m.healthy = log_.ticks_since_heard(member.id) < log_.election_ticks();
      m.role = !m.healthy ? "unreachable" : member.voter ? "follower" : "learner";
      m.match_index = log_.match_index(member.id);
    } else {
      // As far as a follower can tell.
      m.role = is_leader ? "leader" : member.voter ? "follower" : "learner";
      m.healthy = log_.peer_connected(member.id);
    }
    info.members.push_back(std::move(m));
  }
  return info;
}

Status ParkService::check_admin(const core::RpcConnectionPtr& conn, const char* operation) const {
  const auto& park = options_.config.park;
  if (park.users.empty()) return {};
  const auto& admins = park.admins;
  if (std::find(admins.begin(), admins.end(), conn->user()) != admins.end()) return {};
  return Status(Errc::no_permission, std::string(operation) + " is for admins: user '" + conn->user() +
                                         "' is not in PARK/ADMINS");
}

void ParkService::handle_member(const core::RpcConnectionPtr& conn, std::uint64_t id,
                                const proto::MemberRequest& request) {
  auto finish = [this, weak = std::weak_ptr<core::RpcConnection>(conn), id](const Status& status) {
    auto c = weak.lock();
    if (!c || !c->is_open()) return;
    if (status.code() == Errc::not_leader) return reply_not_leader(c, id, status);
    proto::Response response;
    response.status = status;
    response.revision = store_.revision();
    answer(c, id, response);
  };
  if (request.op == proto::MemberOp::list) {
    if (!log_.is_leader()) return reply_not_leader(conn, id, Status(Errc::not_leader, "members are listed by the leader"));
    return handle_status(conn, id);
  }
  if (request.op != proto::MemberOp::add && request.op != proto::MemberOp::remove) {
    return finish(Status(Errc::bad_request, "unknown member operation " + std::to_string(static_cast<int>(request.op))));
  }
  const bool add = request.op == proto::MemberOp::add;
  if (Status s = check_admin(conn, add ? "adding a member" : "removing a member"); !s.ok()) return finish(s);
  auto address = parse_server_address(request.address);
  if (!address.ok()) return finish(address.status());
  log_.change_membership(add ? ReplicatedLog::MemberChange::add : ReplicatedLog::MemberChange::remove, address.value(),
                         finish);
}

void ParkService::reply_not_leader(const core::RpcConnectionPtr& conn, std::uint64_t id, Status why) {
  proto::Response response;
  std::string leader = log_.leader_address();
  response.status = Status(Errc::not_leader, why.message() + (leader.empty() ? "; no leader known yet" : "; the leader is " + leader));
  response.leader = leader;
  response.revision = store_.revision();
  answer(conn, id, response);
}

void ParkService::handle_read(const core::RpcConnectionPtr& conn, std::uint64_t id, proto::Request&& request) {
  // ReadIndex (thesis §6.4): confirm leadership, wait until applied, then read the store.
  // Even a group of one goes this way: after a restart it must first commit an entry of its
  // new term, which brings the store up to every write it acknowledged before.
  auto shared = std::make_shared<proto::Request>(std::move(request));
  std::weak_ptr<core::RpcConnection> weak = conn;
  const auto started = std::chrono::steady_clock::now();
  log_.read_barrier([this, weak, id, shared, started](const Status& status) {
    read_seconds_.observe(std::chrono::steady_clock::now() - started);
    auto c = weak.lock();
    if (!c || !c->is_open()) return;
    if (!status.ok()) {
      if (status.code() == Errc::not_leader) return reply_not_leader(c, id, status);
      proto::Response response;
      response.status = status;
      answer(c, id, response);
      return;
    }
    serve_read(c, id, *shared);
  });
}

void ParkService::serve_read(const core::RpcConnectionPtr& conn, std::uint64_t id, proto::Request& request) {
  proto::Response response;
  response.revision = store_.revision();
  if (auto* get = std::get_if<proto::GetRequest>(&request)) {
    if (const Node* node = store_.find(get->domain, get->node)) {
      response.nodes.push_back(*node);
    } else {
      response.status = Status(Errc::not_found, "node " + get->domain + "/" + get->node + " does not exist");
    }
  } else if (auto* list = std::get_if<proto::ListRequest>(&request)) {
    if (store_.has_domain(list->domain)) {
      response.nodes = store_.list(list->domain);
    } else {
      response.status = Status(Errc::not_found, "domain " + list->domain + " does not exist");
    }
  } else if (auto* latest = std::get_if<proto::LatestRequest>(&request)) {
    hub_.latest(conn, id, *latest);
    return;
  }
  answer(conn, id, response);
}

}  // namespace fourinone::park
