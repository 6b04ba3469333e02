#include "park/client/park_client.hpp"

#include <spdlog/spdlog.h>


#include "core/auth.hpp"
#include "core/wire_archive.hpp"
#include "park/store/store.hpp"

namespace fourinone::park {
namespace asio = boost::asio;
namespace {

constexpr auto kSweepPeriod = std::chrono::milliseconds(50);
constexpr auto kNotLeaderRetry = std::chrono::milliseconds(50);  // while an election runs


Status response_status(const Result<proto::Response>& r) { return r.ok() ? r.value().status : r.status(); }

Result<Node> first_node(Result<proto::Response> r) {
  if (!r.ok()) return r.status();
  auto& resp = r.value();
  if (!resp.status.ok()) return resp.status;
  if (!resp.results.empty()) return std::move(resp.results.front().node);
  if (!resp.nodes.empty()) return std::move(resp.nodes.front());
  return Status(Errc::internal, "server answered without a node");
}

}  // namespace

// --- watches ---------------------------------------------------------------------------

struct ParkClient::WatchState {
  std::uint64_t id = 0;
  std::string domain;
  std::optional<std::string> node;
  WatchCallback callback;
  std::atomic<std::uint64_t> last_revision{0};  // written on the io thread
  std::atomic<bool> cancelled{false};
};

class ParkClient::WatchHandle final : public Watch {
 public:
  WatchHandle(std::weak_ptr<Liveness> liveness, std::shared_ptr<WatchState> state)
      : liveness_(std::move(liveness)), state_(std::move(state)) {}
  ~WatchHandle() override { cancel(); }
  void cancel() override {
    auto liveness = liveness_.lock();
    if (!liveness) return;
    std::lock_guard lock(liveness->mutex);
    if (liveness->client) liveness->client->stop_watch(state_);
  }
  std::uint64_t last_revision() const override { return state_->last_revision.load(); }

 private:
  std::weak_ptr<Liveness> liveness_;
  std::shared_ptr<WatchState> state_;
};

// --- life cycle ------------------------------------------------------------------------

ParkClient::ParkClient(ParkOptions options)
    : options_(std::move(options)),
      client_id_(core::random_client_id()),
      tls_(core::TlsContext::for_client(options_.tls)),
      io_work_(io_.get_executor()),
      callbacks_work_(callbacks_.get_executor()),
      sweep_timer_(io_),
      heartbeat_timer_(io_),
      reconnect_timer_(io_) {
  liveness_->client = this;
  io_thread_ = std::thread([this] { io_.run(); });
  callback_thread_ = std::thread([this] {
    for (;;) {
      try {
        callbacks_.run();
        return;
      } catch (const std::exception& e) {
        // A user callback threw: report it and keep serving the others.
        spdlog::error("park callback threw: {}", e.what());
      }
    }
  });
  asio::post(io_, [this] { sweep(); });
}

ParkClient::~ParkClient() {
  {
    std::lock_guard lock(liveness_->mutex);
    liveness_->client = nullptr;
  }
  if (session_id_.load() != 0 && session_state_.load() != SessionState::expired) {
    (void)close_session();
  }
  std::promise<void> closed;
  asio::post(io_, [this, &closed] {
    closing_ = true;
    sweep_timer_.cancel();
    heartbeat_timer_.cancel();
    reconnect_timer_.cancel();
    watches_.clear();
    auto calls = std::move(calls_);
    calls_.clear();
    for (auto& [id, call] : calls) call.done(Status(Errc::cancelled, "the park client is closing"));
    if (conn_) conn_->close();
    conn_.reset();
    closed.set_value();
  });
  closed.get_future().wait();
  io_work_.reset();
  io_.stop();
  io_thread_.join();
  callbacks_work_.reset();
  callback_thread_.join();
}

core::RpcClientOptions ParkClient::rpc_options() const {
  return core::RpcClientOptions{client_id_, options_.user, options_.password, options_.connect_timeout,
                                static_cast<std::uint32_t>(options_.max_value + (1u << 20)), tls_};
}

Status ParkClient::connect_first() {
  std::promise<Status> result;
  asio::post(io_, [this, &result] {
    auto errors = std::make_shared<std::string>();
    auto attempt = std::make_shared<std::function<void(std::size_t)>>();
    *attempt = [this, &result, errors, attempt](std::size_t i) {
      if (i >= options_.servers.size()) {
        result.set_value(Status(Errc::unavailable, "no park server answered:" + *errors));
        // Break the self-reference last, keeping this closure alive until it returns.
        auto keep_alive = std::exchange(*attempt, nullptr);
        return;
      }
      core::RpcClient::connect(io_, options_.servers[i], rpc_options(),
                               [this, &result, errors, attempt, i](Result<std::shared_ptr<core::RpcClient>> r) {
                                 if (r.ok()) {
                                   next_server_ = i;
                                   on_connected(std::move(r).value());
                                   *attempt = nullptr;
                                   result.set_value(Status());
                                   return;
                                 }
                                 if (r.status().code() == Errc::unauthenticated) {
                                   *attempt = nullptr;
                                   result.set_value(r.status());
                                   return;
                                 }
                                 *errors += " " + r.status().message() + ";";
                                 (*attempt)(i + 1);
                               });
    };
    if (options_.servers.empty()) {
      result.set_value(Status(Errc::bad_request, "no park servers given"));
      return;
    }
    (*attempt)(0);
  });
  return result.get_future().get();
}

// --- connection (io thread) ------------------------------------------------------------

void ParkClient::on_connected(std::shared_ptr<core::RpcClient> conn) {
  conn_ = std::move(conn);
  connecting_ = false;
  // Handlers may use `this`: the destructor closes the connection on the io thread and
  // joins it before any member goes away.
  conn_->set_push_handler([this](std::uint64_t stream, std::string_view body) { on_push(stream, body); });
  conn_->set_close_handler([this](const Status& why) { on_connection_lost(why); });
  // Resend everything still open, in submission order: writes keep their seq.
  for (auto& [id, call] : calls_) call.sent_on_current = false;
  std::vector<std::uint64_t> ids;
  for (auto& [id, call] : calls_) ids.push_back(id);
  for (auto id : ids) send_call(id);
  for (auto& [id, w] : watches_) register_watch(w);
  if (session_id_.load() != 0 && session_state_.load() == SessionState::suspended) heartbeat();
}

void ParkClient::on_connection_lost(const Status& why) {
  if (closing_) return;
  spdlog::debug("park connection lost: {}", why.to_string());
  conn_.reset();
  if (session_id_.load() != 0 && session_state_.load() == SessionState::connected) {
    set_session_state(SessionState::suspended);
  }
  try_connect(0);
}

void ParkClient::try_connect(std::size_t attempt) {
  if (closing_ || connecting_ || conn_) return;
  connecting_ = true;
  const auto& server = options_.servers[next_server_ % options_.servers.size()];
  core::RpcClient::connect(io_, server, rpc_options(), [this, attempt](Result<std::shared_ptr<core::RpcClient>> r) {
    auto* self = this;
    if (self->closing_) return;
    self->connecting_ = false;
    if (r.ok()) {
      self->on_connected(std::move(r).value());
      return;
    }
    self->next_server_++;
    // Back off once every server was tried: 50 ms doubling up to 1 s.
    auto rounds = (attempt + 1) / std::max<std::size_t>(1, self->options_.servers.size());
    auto delay = std::chrono::milliseconds(std::min<std::int64_t>(1000, 50ll << std::min<std::size_t>(rounds, 5)));
    self->reconnect_timer_.expires_after(delay);
    self->reconnect_timer_.async_wait([self, attempt](const boost::system::error_code& ec) {
      if (!ec) self->try_connect(attempt + 1);
    });
  });
}

void ParkClient::submit(proto::Request request, ResponseDone done, std::chrono::milliseconds timeout) {
  std::uint64_t id = next_call_id_++;
  Call call{core::encode(request), Clock::now() + timeout, std::move(done)};
  calls_.emplace(id, std::move(call));
  send_call(id);
}

void ParkClient::submit_write(proto::WriteRequest request, ResponseDone done) {
  submit_sequenced(std::move(request), std::move(done), options_.call_timeout);
}

template <class Sequenced>
void ParkClient::submit_sequenced(Sequenced request, ResponseDone done, std::chrono::milliseconds timeout) {
  std::uint64_t seq = next_seq_++;
  open_seqs_.insert(seq);
  request.seq = seq;
  request.acked_below = *open_seqs_.begin();
  std::uint64_t id = next_call_id_++;
  Call call{core::encode(proto::Request(std::move(request))), Clock::now() + timeout, std::move(done), seq};
  calls_.emplace(id, std::move(call));
  send_call(id);
}

void ParkClient::call_mq(proto::MqRequest request, std::chrono::milliseconds timeout, ResponseDone done) {
  asio::post(io_, [this, request = std::move(request), timeout, done = std::move(done)]() mutable {
    if (closing_) return done(Status(Errc::cancelled, "the park client is closing"));
    submit_sequenced(std::move(request), std::move(done), timeout);
  });
}

void ParkClient::call_mq_read(proto::MqReadRequest request, ResponseDone done) {
  request.stale = options_.stale_reads;
  asio::post(io_, [this, request = std::move(request), done = std::move(done)]() mutable {
    if (closing_) return done(Status(Errc::cancelled, "the park client is closing"));
    submit(proto::Request(std::move(request)), std::move(done), options_.call_timeout);
  });
}

void ParkClient::post_callback(std::function<void()> fn) { asio::post(callbacks_, std::move(fn)); }

Result<std::uint64_t> ParkClient::lease_session() {
  if (session_state_.load() == SessionState::expired || session_id_.load() == 0) {
    if (Status s = open_session(); !s.ok()) return s;
  }
  return session_id_.load();
}

void ParkClient::send_call(std::uint64_t call_id) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  if (!conn_ || !conn_->is_open()) {
    try_connect(0);
    return;  // sent on reconnect, or failed by sweep() at its deadline
  }
  it->second.sent_on_current = true;
  conn_->call(it->second.body, it->second.deadline, [this, call_id](Result<std::string> body) {
    auto* self = this;
    if (!body.ok()) {
      // A lost connection leaves the call open: it is resent after the reconnect. So does
      // our own close of it (cancelled), made to move to the leader.
      auto code = body.status().code();
      if ((code == Errc::unavailable || code == Errc::cancelled) && !self->closing_) return;
      self->finish_call(call_id, body.status());
      return;
    }
    proto::Response response;
    if (Status s = core::decode(body.value(), response, "response"); !s.ok()) {
      self->finish_call(call_id, s);
      return;
    }
    if (response.status.code() == Errc::not_leader && !self->closing_) {
      // Not an answer yet: the call stays open (a write keeps its seq) until the leader
      // answers or the deadline passes.
      self->on_not_leader(call_id, std::move(response));
      return;
    }
    self->finish_call(call_id, std::move(response));
  });
}

void ParkClient::on_not_leader(std::uint64_t call_id, proto::Response response) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  it->second.sent_on_current = false;
  const std::string& leader = response.leader;
  const auto& servers = options_.servers;
  std::size_t current = next_server_ % servers.size();
  if (!leader.empty()) {
    bool known = false;
    for (std::size_t i = 0; i < servers.size(); ++i) {
      if (servers[i].to_string() != leader) continue;
      known = true;
      if (i == current) break;  // it just became leader or lost it: ask again shortly
      spdlog::debug("park: {} is not the leader; switching to {}", servers[current].to_string(), leader);
      next_server_ = i;
      // Reconnecting resends every open call, this one included, to the leader.
      if (conn_) conn_->close();
      return;
    }
    auto address = parse_server_address(leader);
    if (!known && servers.size() > 1 && address.ok()) {
      // A member added after our server list was written (fourinone ctl member add): the
      // group's list is only where a client starts, so follow the group's word.
      spdlog::info("park: the leader {} is not among our servers; adding it", leader);
      options_.servers.push_back(address.value());
      next_server_ = options_.servers.size() - 1;
      if (conn_) conn_->close();
      return;
    }
    if (!known) {
      // The leader is not among our servers and we are pinned to one member: say so.
      finish_call(call_id, std::move(response.status));
      return;
    }
  }
  // No leader known yet (an election is on), or one we cannot place: ask again shortly —
  // on the next server when this one knows no leader (it may be cut off from the rest).
  auto timer = std::make_shared<asio::steady_timer>(io_, kNotLeaderRetry);
  bool move_on = leader.empty() && servers.size() > 1;
  timer->async_wait([this, timer, call_id, move_on](const boost::system::error_code& ec) {
    if (ec || closing_) return;
    if (move_on && conn_) {
      next_server_ = next_server_ % options_.servers.size() + 1;
      conn_->close();  // reconnecting resends the open calls
      return;
    }
    send_call(call_id);
  });
}

void ParkClient::finish_call(std::uint64_t call_id, Result<proto::Response> result) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  Call call = std::move(it->second);
  calls_.erase(it);
  if (call.seq) open_seqs_.erase(call.seq);
  call.done(std::move(result));
}

void ParkClient::sweep() {
  if (closing_) return;
  auto now = Clock::now();
  std::vector<std::uint64_t> late;
  for (auto& [id, call] : calls_) {
    if (call.deadline <= now) late.push_back(id);
  }
  for (auto id : late) {
    finish_call(id, Status(conn_ ? Errc::timeout : Errc::unavailable,
                           conn_ ? "no answer before the deadline" : "no park server reachable before the deadline"));
  }
  sweep_timer_.expires_after(kSweepPeriod);
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) sweep();
  });
}

void ParkClient::on_push(std::uint64_t stream, std::string_view body) {
  proto::WatchPush push;
  if (Status s = core::decode(body, push, "watch push"); !s.ok()) {
    spdlog::error("bad watch push: {}", s.message());
    return;
  }
  auto it = watches_.find(stream);
  if (it == watches_.end()) return;
  auto w = it->second;
  std::vector<WatchEvent> deliver;
  if (push.resync) {
    WatchEvent e;
    e.type = WatchEvent::Type::resync;
    e.revision = push.revision;
    deliver.push_back(e);
    w->last_revision = push.revision;
  }
  std::uint64_t last = w->last_revision.load();
  for (auto& e : push.events) {
    if (e.revision <= last) continue;  // already delivered before a reconnect
    deliver.push_back(std::move(e));
  }
  if (!deliver.empty()) {
    w->last_revision = std::max(last, deliver.back().revision);
    asio::post(callbacks_, [w, deliver = std::move(deliver)] {
      for (const auto& e : deliver) {
        if (w->cancelled.load()) return;
        w->callback(e);
      }
    });
  }
}

void ParkClient::register_watch(const std::shared_ptr<WatchState>& w) {
  proto::WatchRequest req{w->id, w->domain, w->node, w->last_revision.load() + 1};
  submit(proto::Request(std::move(req)), [](Result<proto::Response>) {}, options_.call_timeout);
}

// --- sessions ----------------------------------------------------------------------------

void ParkClient::set_session_state(SessionState state) {
  if (session_state_.exchange(state) == state) return;
  std::function<void(SessionState)> cb;
  {
    std::lock_guard lock(state_callback_mutex_);
    cb = state_callback_;
  }
  if (cb) asio::post(callbacks_, [cb, state] { cb(state); });
}

void ParkClient::on_session_state(std::function<void(SessionState)> callback) {
  std::lock_guard lock(state_callback_mutex_);
  state_callback_ = std::move(callback);
}

void ParkClient::heartbeat() {
  std::uint64_t session = session_id_.load();
  auto state = session_state_.load();
  if (closing_ || session == 0 || state == SessionState::expired || state == SessionState::closed) return;
  // Fencing: a client cut off longer than its session timeout must assume the park has
  // already ended its session and handed its locks to others.
  if (state == SessionState::suspended && Clock::now() - last_heartbeat_ok_ > options_.session_timeout) {
    set_session_state(SessionState::expired);
    return;
  }
  if (conn_ && conn_->is_open()) {
    submit(proto::Request(proto::HeartbeatRequest{session}),
           [this, session](Result<proto::Response> r) {
             auto* self = this;
             if (self->session_id_.load() != session) return;
             Status s = response_status(r);
             if (s.ok()) {
               self->last_heartbeat_ok_ = Clock::now();
               self->set_session_state(SessionState::connected);
             } else if (s.code() == Errc::session_expired) {
               self->set_session_state(SessionState::expired);
             }
           },
           options_.heartbeat * 2);
  }
  heartbeat_timer_.expires_after(options_.heartbeat);
  heartbeat_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) heartbeat();
  });
}

Status ParkClient::open_session() {
  std::lock_guard lock(session_mutex_);
  auto state = session_state_.load();
  if (session_id_.load() != 0 && (state == SessionState::connected || state == SessionState::suspended)) return {};
  proto::WriteRequest req;
  req.kind = CommandKind::open_session;
  req.session_timeout_ms = options_.session_timeout.count();
  auto r = write_sync(std::move(req));
  if (Status s = response_status(r); !s.ok()) return s;
  session_id_ = r.value().session;
  // Before returning: a heartbeat create right after must not still see `expired`.
  set_session_state(SessionState::connected);
  asio::post(io_, [this] {
    last_heartbeat_ok_ = Clock::now();
    heartbeat_timer_.expires_after(options_.heartbeat);
    heartbeat_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) heartbeat();
    });
  });
  return {};
}

Status ParkClient::close_session() {
  std::lock_guard lock(session_mutex_);
  std::uint64_t session = session_id_.load();
  if (session == 0) return {};
  proto::WriteRequest req;
  req.kind = CommandKind::close_session;
  req.session = session;
  auto r = write_sync(std::move(req));
  session_id_ = 0;
  set_session_state(SessionState::closed);
  Status s = response_status(r);
  if (s.code() == Errc::not_found) return {};  // already expired: nothing left to close
  return s;
}

Result<std::uint64_t> ParkClient::ensure_session() {
  auto state = session_state_.load();
  if (state == SessionState::expired) {
    return Status(Errc::session_expired, "this client's session has expired; its heartbeat nodes are gone");
  }
  if (session_id_.load() == 0) {
    if (Status s = open_session(); !s.ok()) return s;
  }
  return session_id_.load();
}

// --- calls from user threads -----------------------------------------------------------

Result<proto::Response> ParkClient::call_sync(proto::Request request, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<Result<proto::Response>>>();
  auto future = promise->get_future();
  asio::post(io_, [this, request = std::move(request), promise, timeout]() mutable {
    if (closing_) {
      promise->set_value(Status(Errc::cancelled, "the park client is closing"));
      return;
    }
    submit(std::move(request), [promise](Result<proto::Response> r) { promise->set_value(std::move(r)); }, timeout);
  });
  return future.get();
}

Result<proto::Response> ParkClient::write_sync(proto::WriteRequest request) {
  auto promise = std::make_shared<std::promise<Result<proto::Response>>>();
  auto future = promise->get_future();
  asio::post(io_, [this, request = std::move(request), promise]() mutable {
    if (closing_) {
      promise->set_value(Status(Errc::cancelled, "the park client is closing"));
      return;
    }
    submit_write(std::move(request), [promise](Result<proto::Response> r) { promise->set_value(std::move(r)); });
  });
  return future.get();
}

void ParkClient::write_async(proto::WriteRequest request, NodeCallback done) {
  asio::post(io_, [this, request = std::move(request), done = std::move(done)]() mutable {
    auto deliver = [this, done = std::move(done)](Result<proto::Response> r) mutable {
      asio::post(callbacks_, [done = std::move(done), n = first_node(std::move(r))]() mutable { done(std::move(n)); });
    };
    if (closing_) {
      deliver(Status(Errc::cancelled, "the park client is closing"));
      return;
    }
    submit_write(std::move(request), std::move(deliver));
  });
}

Status ParkClient::check_op(const Op& op) const {
  if (op.value.size() > options_.max_value) {
    return Status(Errc::too_large, "value of " + std::to_string(op.value.size()) + " bytes exceeds the limit of " +
                                       std::to_string(options_.max_value));
  }
  return {};
}

proto::WriteRequest ParkClient::single_op(Op op) {
  proto::WriteRequest req;
  req.kind = CommandKind::txn;
  req.ops.push_back(std::move(op));
  return req;
}

namespace {
Op make_create(std::string_view domain, std::string_view node, std::string_view value, const CreateOptions& o,
               OpKind kind) {
  Op op;
  op.kind = kind;
  op.domain = domain;
  op.node = node;
  op.value = value;
  op.policy = o.policy;
  op.heartbeat = o.heartbeat;
  op.ttl_ms = o.ttl.count();
  return op;
}
Op make_op(OpKind kind, std::string_view domain, std::string_view node, std::string_view value, std::int64_t version) {
  Op op;
  op.kind = kind;
  op.domain = domain;
  op.node = node;
  op.value = value;
  op.version = version;
  return op;
}
}  // namespace

Result<Node> ParkClient::create(std::string_view domain, std::string_view node, std::string_view value,
                                const CreateOptions& options) {
  Op op = make_create(domain, node, value, options, OpKind::create);
  if (Status s = check_op(op); !s.ok()) return s;
  auto req = single_op(std::move(op));
  if (options.heartbeat) {
    auto session = ensure_session();
    if (!session.ok()) return session.status();
    req.session = session.value();
  }
  return first_node(write_sync(std::move(req)));
}

Result<Node> ParkClient::create_sequential(std::string_view domain, std::string_view value,
                                           const CreateOptions& options) {
  Op op = make_create(domain, "", value, options, OpKind::create_sequential);
  if (Status s = check_op(op); !s.ok()) return s;
  auto req = single_op(std::move(op));
  if (options.heartbeat) {
    auto session = ensure_session();
    if (!session.ok()) return session.status();
    req.session = session.value();
  }
  return first_node(write_sync(std::move(req)));
}

Result<Node> ParkClient::update(std::string_view domain, std::string_view node, std::string_view value,
                                std::int64_t expected_version) {
  Op op = make_op(OpKind::update, domain, node, value, expected_version);
  if (Status s = check_op(op); !s.ok()) return s;
  return first_node(write_sync(single_op(std::move(op))));
}

Result<Node> ParkClient::remove(std::string_view domain, std::string_view node, std::int64_t expected_version) {
  return first_node(write_sync(single_op(make_op(OpKind::remove, domain, node, "", expected_version))));
}

Result<std::vector<Node>> ParkClient::remove_domain(std::string_view domain) {
  auto r = write_sync(single_op(make_op(OpKind::remove_domain, domain, "", "", kAnyVersion)));
  if (Status s = response_status(r); !s.ok()) return s;
  if (r.value().results.empty()) return std::vector<Node>{};
  return std::move(r.value().results.front().removed);
}

Status ParkClient::set_deletable(std::string_view domain) {
  return response_status(write_sync(single_op(make_op(OpKind::set_deletable, domain, "", "", kAnyVersion))));
}

Result<TxnResult> ParkClient::commit(const Txn& txn) {
  proto::WriteRequest req;
  req.kind = CommandKind::txn;
  bool needs_session = false;
  for (const auto& t : txn.ops()) {
    Op op;
    switch (t.kind) {
      case Txn::Kind::check: op = make_op(OpKind::check, t.domain, t.node, "", t.version); break;
      case Txn::Kind::create: op = make_create(t.domain, t.node, t.value, t.options, OpKind::create); break;
      case Txn::Kind::create_sequential:
        op = make_create(t.domain, "", t.value, t.options, OpKind::create_sequential);
        break;
      case Txn::Kind::update: op = make_op(OpKind::update, t.domain, t.node, t.value, t.version); break;
      case Txn::Kind::remove: op = make_op(OpKind::remove, t.domain, t.node, "", t.version); break;
    }
    if (Status s = check_op(op); !s.ok()) return s;
    needs_session = needs_session || op.heartbeat;
    req.ops.push_back(std::move(op));
  }
  if (needs_session) {
    auto session = ensure_session();
    if (!session.ok()) return session.status();
    req.session = session.value();
  }
  auto r = write_sync(std::move(req));
  if (Status s = response_status(r); !s.ok()) return s;
  TxnResult out;
  out.revision = r.value().revision;
  for (auto& result : r.value().results) out.nodes.push_back(std::move(result.node));
  return out;
}

Result<Node> ParkClient::get(std::string_view domain, std::string_view node) {
  return first_node(call_sync(proto::GetRequest{std::string(domain), std::string(node), options_.stale_reads}, options_.call_timeout));
}

Result<std::vector<Node>> ParkClient::list(std::string_view domain) {
  auto r = call_sync(proto::ListRequest{std::string(domain), options_.stale_reads}, options_.call_timeout);
  if (Status s = response_status(r); !s.ok()) return s;
  return std::move(r.value().nodes);
}

Result<std::optional<Node>> ParkClient::get_latest(std::string_view domain, std::string_view node,
                                                   std::uint64_t old_version, std::chrono::milliseconds wait) {
  if (node.empty()) return Status(Errc::bad_request, "get_latest needs a node name");
  auto r = call_sync(proto::LatestRequest{std::string(domain), std::string(node), old_version, wait.count(), options_.stale_reads},
                     options_.call_timeout + wait);
  if (Status s = response_status(r); !s.ok()) return s;
  if (!r.value().changed || r.value().nodes.empty()) return std::optional<Node>{};
  return std::optional<Node>(std::move(r.value().nodes.front()));
}

Result<std::optional<DomainSnapshot>> ParkClient::get_latest_domain(std::string_view domain,
                                                                       std::uint64_t since_revision,
                                                                       std::chrono::milliseconds wait) {
  auto r = call_sync(proto::LatestRequest{std::string(domain), "", since_revision, wait.count(), options_.stale_reads},
                     options_.call_timeout + wait);
  if (Status s = response_status(r); !s.ok()) return s;
  if (!r.value().changed) return std::optional<DomainSnapshot>{};
  return std::optional<DomainSnapshot>(DomainSnapshot{r.value().revision, std::move(r.value().nodes)});
}

Status ParkClient::start_watch(const std::shared_ptr<WatchState>& w, std::uint64_t from_revision) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  asio::post(io_, [this, w, from_revision, promise] {
    w->id = next_watch_id_++;
    if (from_revision > 0) w->last_revision = from_revision - 1;
    watches_[w->id] = w;
    proto::WatchRequest req{w->id, w->domain, w->node, from_revision};
    submit(proto::Request(std::move(req)),
           [this, w, promise, from_revision](Result<proto::Response> r) {
             Status s = response_status(r);
             if (!s.ok()) {
               watches_.erase(w->id);
             } else if (from_revision == 0 && w->last_revision.load() < r.value().revision) {
               // "From now on": everything after the revision the server answered at.
               w->last_revision = r.value().revision;
             }
             promise->set_value(s);
           },
           options_.call_timeout);
  });
  return future.get();
}

void ParkClient::stop_watch(const std::shared_ptr<WatchState>& w) {
  if (w->cancelled.exchange(true)) return;
  asio::post(io_, [this, w] {
    if (closing_ || watches_.erase(w->id) == 0) return;
    if (conn_ && conn_->is_open()) {
      submit(proto::Request(proto::UnwatchRequest{w->id}), [](Result<proto::Response>) {}, options_.call_timeout);
    }
  });
}

Result<std::unique_ptr<Watch>> ParkClient::watch(std::string_view domain, std::optional<std::string> node,
                                                 std::uint64_t from_revision, WatchCallback callback) {
  auto w = std::make_shared<WatchState>();
  w->domain = domain;
  w->node = std::move(node);
  w->callback = std::move(callback);
  if (Status s = start_watch(w, from_revision); !s.ok()) return s;
  return std::unique_ptr<Watch>(std::make_unique<WatchHandle>(liveness_, w));
}

Result<std::unique_ptr<Watch>> ParkClient::add_listener(std::string_view domain, std::string_view node,
                                                        std::uint64_t old_version, Listener listener) {
  // Read the node first, then stream every change after the revision of that read: nothing
  // between the two is missed.
  auto r = call_sync(proto::GetRequest{std::string(domain), std::string(node)}, options_.call_timeout);
  if (!r.ok()) return r.status();
  if (!r.value().status.ok() && r.value().status.code() != Errc::not_found) return r.value().status;
  struct ListenerState {
    Listener listener;
    std::uint64_t version = 0;  // last version the listener saw (callback thread only)
    bool done = false;
  };
  auto state = std::make_shared<ListenerState>(ListenerState{std::move(listener), old_version, false});
  auto w = std::make_shared<WatchState>();
  w->domain = domain;
  w->node = std::string(node);
  std::weak_ptr<WatchState> weak_w = w;
  auto deliver = [this, state, weak_w](const Node* n) {
    if (state->done) return;
    if (state->listener(n)) {
      state->done = true;
      if (auto sw = weak_w.lock()) stop_watch(sw);
    }
  };
  w->callback = [state, deliver](const WatchEvent& e) {
    if (e.type == WatchEvent::Type::deleted) {
      state->version = 0;
      deliver(nullptr);
    } else if (e.type != WatchEvent::Type::resync && e.node.version != state->version) {
      state->version = e.node.version;
      deliver(&e.node);
    }
  };
  // The current version, if it differs from the caller's, is the first thing it sees.
  if (r.value().status.ok() && !r.value().nodes.empty() && r.value().nodes.front().version != old_version) {
    Node current = r.value().nodes.front();
    asio::post(callbacks_, [state, deliver, current] {
      if (current.version == state->version) return;
      state->version = current.version;
      deliver(&current);
    });
  }
  if (Status s = start_watch(w, r.value().revision + 1); !s.ok()) return s;
  return std::unique_ptr<Watch>(std::make_unique<WatchHandle>(liveness_, w));
}

void ParkClient::async_create(std::string_view domain, std::string_view node, std::string_view value,
                              const CreateOptions& options, NodeCallback done) {
  Op op = make_create(domain, node, value, options, OpKind::create);
  if (Status s = check_op(op); !s.ok()) {
    asio::post(callbacks_, [done = std::move(done), s] { done(s); });
    return;
  }
  auto req = single_op(std::move(op));
  if (options.heartbeat) {
    // Opening the session is a round trip of its own; do it off the caller's thread.
    asio::post(callbacks_, [this, req = std::move(req), done = std::move(done)]() mutable {
      auto session = ensure_session();
      if (!session.ok()) {
        done(session.status());
        return;
      }
      req.session = session.value();
      write_async(std::move(req), std::move(done));
    });
    return;
  }
  write_async(std::move(req), std::move(done));
}

void ParkClient::async_update(std::string_view domain, std::string_view node, std::string_view value,
                              std::int64_t expected_version, NodeCallback done) {
  Op op = make_op(OpKind::update, domain, node, value, expected_version);
  if (Status s = check_op(op); !s.ok()) {
    asio::post(callbacks_, [done = std::move(done), s] { done(s); });
    return;
  }
  write_async(single_op(std::move(op)), std::move(done));
}

void ParkClient::async_remove(std::string_view domain, std::string_view node, std::int64_t expected_version,
                              NodeCallback done) {
  write_async(single_op(make_op(OpKind::remove, domain, node, "", expected_version)), std::move(done));
}

void ParkClient::async_get(std::string_view domain, std::string_view node, NodeCallback done) {
  asio::post(io_, [this, d = std::string(domain), n = std::string(node), done = std::move(done)]() mutable {
    auto deliver = [this, done = std::move(done)](Result<proto::Response> r) mutable {
      asio::post(callbacks_, [done = std::move(done), n = first_node(std::move(r))]() mutable { done(std::move(n)); });
    };
    if (closing_) {
      deliver(Status(Errc::cancelled, "the park client is closing"));
      return;
    }
    submit(proto::GetRequest{std::move(d), std::move(n), options_.stale_reads}, std::move(deliver),
           options_.call_timeout);
  });
}

Status ParkClient::change_member(bool add, std::string_view address) {
  auto parsed = parse_server_address(address);
  if (!parsed.ok()) return parsed.status();
  return response_status(call_sync(proto::MemberRequest{add ? proto::MemberOp::add : proto::MemberOp::remove,
                                                        parsed->to_string()},
                                   options_.call_timeout));
}

Result<std::vector<MemberStatus>> ParkClient::members() {
  auto r = call_sync(proto::MemberRequest{proto::MemberOp::list, ""}, options_.call_timeout);
  if (Status s = response_status(r); !s.ok()) return s;
  if (!r.value().info) return Status(Errc::internal, "server answered the member list without data");
  return std::move(r.value().info->members);
}

Status ParkClient::add_member(std::string_view address) { return change_member(true, address); }
Status ParkClient::remove_member(std::string_view address) { return change_member(false, address); }

Result<ParkStatus> ParkClient::status() {
  auto r = call_sync(proto::StatusRequest{}, options_.call_timeout);
  if (Status s = response_status(r); !s.ok()) return s;
  if (!r.value().info) return Status(Errc::internal, "server answered status without data");
  return std::move(*r.value().info);
}

}  // namespace fourinone::park
