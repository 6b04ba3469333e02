#include "core/rpc_server.hpp"

#include <spdlog/spdlog.h>

#include "core/auth.hpp"
#include "core/status_serialize.hpp"
#include "core/wire_archive.hpp"

namespace fourinone::core {

RpcConnection::RpcConnection(std::shared_ptr<FramedSocket> socket, RpcHandler& handler,
                             const RpcServerOptions& options)
    : socket_(std::move(socket)), handler_(handler), options_(options), handshake_timer_(socket_->executor()) {}

std::string RpcConnection::identity() const {
  return user_.empty() ? "client-" + std::to_string(client_id_) : user_;
}

void RpcConnection::start() {
  auto self = shared_from_this();
  handshake_timer_.expires_after(options_.handshake_timeout);
  handshake_timer_.async_wait([weak = std::weak_ptr<RpcConnection>(self)](const boost::system::error_code& ec) {
    auto conn = weak.lock();
    if (ec || !conn || conn->state_ == State::ready) return;
    conn->socket_->fail(0, Status(Errc::timeout, "no hello/login within the handshake timeout"));
  });
  if (handler_.wants_peek()) {
    socket_->set_peek_handler([self](std::string_view body) {
      if (self->state_ == State::ready) self->handler_.on_peek(body);
    });
  }
  socket_->start([self](const FrameHeader& h, std::string_view body) { self->on_frame(h, body); },
                 [self](const Status& why) {
                   self->handshake_timer_.cancel();
                   if (self->options_.stats) self->options_.stats->open.fetch_sub(1, std::memory_order_relaxed);
                   if (self->state_ == State::ready) self->handler_.on_close(self);
                   spdlog::debug("connection {} closed: {}", self->peer(), why.to_string());
                   self->handler_state.reset();
                 });
}

void RpcConnection::on_frame(const FrameHeader& header, std::string_view body) {
  switch (state_) {
    case State::awaiting_hello:
      if (header.type != FrameType::hello) {
        socket_->fail(header.id, Status(Errc::unauthenticated, "expected a hello frame first"));
        return;
      }
      on_hello(body);
      return;
    case State::awaiting_auth:
      if (header.type != FrameType::auth) {
        socket_->fail(header.id, Status(Errc::unauthenticated, "login required: expected an auth frame"));
        return;
      }
      on_auth(body);
      return;
    case State::ready:
      if (header.type != FrameType::request) {
        socket_->fail(header.id, Status(Errc::bad_request, "unexpected frame type " +
                                                               std::to_string(static_cast<int>(header.type))));
        return;
      }
      handler_.on_request(shared_from_this(), header.id, body);
      return;
  }
}

void RpcConnection::on_hello(std::string_view body) {
  HelloRequest hello;
  if (Status s = decode(body, hello, "hello"); !s.ok()) {
    socket_->fail(0, s);
    return;
  }
  client_id_ = hello.client_id;
  HelloReply reply;
  reply.server_id = options_.server_id;
  reply.server_nonce = random_bytes(18);
  const bool group_hello = options_.group_login && hello.user == kGroupUser;
  if (options_.users.empty() && !group_hello) {
    state_ = State::ready;
    handshake_timer_.cancel();
    socket_->send(make_frame(FrameType::hello_reply, 0, encode(reply)));
    handler_.on_open(shared_from_this());
    return;
  }
  if (hello.user.empty()) {
    socket_->fail(0, Status(Errc::unauthenticated, "this park requires a login: give a user and password"));
    return;
  }
  reply.auth_required = true;
  if (group_hello) {
    login_user_ = &*options_.group_login;
  } else {
    for (const auto& u : options_.users) {
      if (u.name == hello.user) login_user_ = &u;
    }
  }
  if (login_user_) {
    reply.salt = login_user_->salt;
    reply.iterations = login_user_->iterations;
  } else {
    // Unknown user: answer with a plausible salt so the reply does not reveal which names exist.
    reply.salt = random_bytes(16);
    reply.iterations = 4096;
  }
  user_ = hello.user;
  auth_message_ = auth_message(hello.user, hello.client_nonce, reply.server_nonce);
  state_ = State::awaiting_auth;
  socket_->send(make_frame(FrameType::hello_reply, 0, encode(reply)));
}

void RpcConnection::on_auth(std::string_view body) {
  AuthRequest auth;
  if (Status s = decode(body, auth, "auth"); !s.ok()) {
    socket_->fail(0, s);
    return;
  }
  if (!login_user_ || !verify_client_proof(*login_user_, auth_message_, auth.proof)) {
    if (options_.group_login && login_user_ == &*options_.group_login) {
      spdlog::warn("{} offered a wrong group key (PARK/GROUPKEY differs from ours)", peer());
      socket_->fail(0, Status(Errc::unauthenticated, "wrong group key: PARK/GROUPKEY differs between the servers"));
      return;
    }
    spdlog::warn("failed login for user '{}' from {}", user_, peer());
    socket_->fail(0, Status(Errc::unauthenticated, "wrong user or password"));
    return;
  }
  state_ = State::ready;
  handshake_timer_.cancel();
  group_member_ = options_.group_login && login_user_ == &*options_.group_login;
  AuthReply reply{server_signature(*login_user_, auth_message_)};
  socket_->send(make_frame(FrameType::auth_reply, 0, encode(reply)));
  handler_.on_open(shared_from_this());
}

void RpcConnection::reply(std::uint64_t id, std::string_view body) {
  if (id == 0) return;  // a one-way request (RpcClient::notify): nobody waits for an answer
  // The other side refuses frames over the limit (and closes the connection): an answer that
  // big becomes a clear error for this one call instead.
  if (body.size() > socket_->max_frame()) {
    socket_->fail(id, Status(Errc::too_large, "the answer of " + std::to_string(body.size()) +
                                                  " bytes exceeds the frame limit of " +
                                                  std::to_string(socket_->max_frame()) +
                                                  " bytes (MAXVALUE + 1 MiB); ask for less at once"));
    return;
  }
  socket_->send(make_frame(FrameType::response, id, body));
}

void RpcConnection::reply_frame(std::uint64_t id, std::string frame) {
  if (id == 0) return;  // one-way, as in reply()
  if (frame_body_size(frame) > socket_->max_frame()) {
    reply(id, std::string_view(frame).substr(kFrameHeaderSize));  // the same clear error
    return;
  }
  seal_frame(frame, FrameType::response, id);
  socket_->send(std::move(frame));
}

void RpcConnection::push(std::uint64_t stream, std::string_view body) {
  socket_->send(make_frame(FrameType::push, stream, body));
}

void RpcConnection::close(const Status& why) { socket_->close(why); }

bool RpcConnection::on_own_thread() {
  auto& context = asio::query(socket_->executor(), asio::execution::context);
  return static_cast<asio::io_context&>(context).get_executor().running_in_this_thread();
}

void RpcConnection::fail(std::uint64_t id, const Status& status) { socket_->fail(id, status); }

RpcServer::RpcServer(asio::io_context& io, RpcHandler& handler, RpcServerOptions options)
    : io_(io), handler_(handler), options_(std::move(options)), acceptor_(io) {}

RpcServer::~RpcServer() = default;

Status RpcServer::listen(const std::string& host, std::uint16_t port) {
  if (options_.tls && !options_.tls->status().ok()) return options_.tls->status();
  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty()) {
    return Status(Errc::unavailable, "cannot resolve " + host + ": " + ec.message());
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(Errc::unavailable, "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  accept();
  return {};
}

std::uint16_t RpcServer::port() const {
  boost::system::error_code ec;
  auto endpoint = acceptor_.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void RpcServer::accept() {
  asio::io_context& target =
      connection_ios_.empty() ? io_ : *connection_ios_[next_io_++ % connection_ios_.size()];
  acceptor_.async_accept(target, [this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      auto framed = std::make_shared<FramedSocket>(std::move(socket), options_.max_frame, options_.tls);
      if (options_.stats) {
        framed->count_into(options_.stats);
        options_.stats->accepted.add();
        options_.stats->open.fetch_add(1, std::memory_order_relaxed);
      }
      auto conn = std::make_shared<RpcConnection>(framed, handler_, options_);
      std::erase_if(connections_, [](const auto& w) { return w.expired(); });
      connections_.push_back(conn);
      // Everything of a connection happens on its own io thread, its start too.
      if (conn->on_own_thread()) {
        conn->start();
      } else {
        asio::post(conn->executor(), [conn] { conn->start(); });
      }
    } else {
      spdlog::warn("accept failed: {}", ec.message());
    }
    accept();
  });
}

void RpcServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (auto& weak : connections_) {
    auto conn = weak.lock();
    if (!conn) continue;
    if (conn->on_own_thread()) {
      conn->close(Status(Errc::unavailable, "server shutting down"));
    } else {
      asio::post(conn->executor(), [conn] { conn->close(Status(Errc::unavailable, "server shutting down")); });
    }
  }
  connections_.clear();
}

}  // namespace fourinone::core
