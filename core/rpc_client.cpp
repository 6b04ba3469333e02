#include "core/rpc_client.hpp"

#include <random>

#include "core/auth.hpp"
#include "core/status_serialize.hpp"
#include "core/wire_archive.hpp"

namespace fourinone::core {

std::uint64_t random_client_id() {
  std::random_device rd;
  std::uint64_t id = 0;
  while (id == 0) id = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  return id;
}
namespace {
constexpr auto kSweepPeriod = std::chrono::milliseconds(50);
}  // namespace

RpcClient::RpcClient(asio::io_context& io, RpcClientOptions options)
    : options_(std::move(options)), sweep_timer_(io) {}

void RpcClient::connect(asio::io_context& io, const ServerAddress& address, const RpcClientOptions& options,
                        ConnectHandler done) {
  if (options.tls && !options.tls->status().ok()) {
    asio::post(io, [done = std::move(done), status = options.tls->status()] { done(status); });
    return;
  }
  auto client = std::make_shared<RpcClient>(io, options);
  auto socket = std::make_shared<tcp::socket>(io);
  auto timer = std::make_shared<asio::steady_timer>(io);
  auto finished = std::make_shared<bool>(false);
  auto shared_done = std::make_shared<ConnectHandler>(std::move(done));
  auto fail = [finished, shared_done, timer](Status s) {
    if (*finished) return;
    *finished = true;
    timer->cancel();
    (*shared_done)(std::move(s));
  };
  std::string where = address.to_string();
  timer->expires_after(options.connect_timeout);
  timer->async_wait([client, socket, fail, finished, where](const boost::system::error_code& ec) {
    if (ec || *finished) return;  // (a handler already queued when the connection succeeded)
    boost::system::error_code ignored;
    socket->close(ignored);
    fail(Status(Errc::unavailable, "connecting to " + where + " timed out"));
    client->close();  // a connection stuck in the TLS handshake or the hello: nobody waits for it
  });
  auto resolver = std::make_shared<tcp::resolver>(io);
  resolver->async_resolve(
      address.host, std::to_string(address.port),
      [client, socket, resolver, fail, finished, shared_done, timer, where, host = address.host](
          const boost::system::error_code& ec, tcp::resolver::results_type results) {
        if (*finished) return;
        if (ec) {
          fail(Status(Errc::unavailable, "cannot resolve " + where + ": " + ec.message()));
          return;
        }
        asio::async_connect(*socket, results,
                            [client, socket, fail, finished, shared_done, timer, where, host](
                                const boost::system::error_code& ec2, const tcp::endpoint&) {
                              if (*finished) return;
                              if (ec2) {
                                fail(Status(Errc::unavailable, "cannot connect to " + where + ": " + ec2.message()));
                                return;
                              }
                              // The handshake completes (or fails) through connect_done_.
                              client->start_handshake(
                                  std::move(*socket), host,
                                  [fail, finished, shared_done, timer](Result<std::shared_ptr<RpcClient>> r) {
                                    if (*finished) return;
                                    *finished = true;
                                    timer->cancel();
                                    (*shared_done)(std::move(r));
                                  });
                            });
      });
}

void RpcClient::start_handshake(tcp::socket socket, const std::string& host, ConnectHandler done) {
  connect_done_ = std::move(done);
  socket_ = std::make_shared<FramedSocket>(std::move(socket), options_.max_frame, options_.tls, host);
  auto self = shared_from_this();
  socket_->start([self](const FrameHeader& h, std::string_view body) { self->on_frame(h, body); },
                 [self](const Status& why) { self->on_closed(why); });
  client_nonce_ = random_bytes(18);
  HelloRequest hello{options_.client_id, options_.user, client_nonce_};
  socket_->send(make_frame(FrameType::hello, 0, encode(hello)));
}

void RpcClient::on_frame(const FrameHeader& header, std::string_view body) {
  auto finish_connect = [this](Result<std::shared_ptr<RpcClient>> r) {
    auto done = std::move(connect_done_);
    connect_done_ = nullptr;
    if (done) done(std::move(r));
  };
  switch (header.type) {
    case FrameType::hello_reply: {
      HelloReply reply;
      if (Status s = decode(body, reply, "hello reply"); !s.ok()) {
        socket_->close(s);
        return;
      }
      server_id_ = reply.server_id;
      if (!reply.auth_required) {
        ready_ = true;
        sweep_deadlines();
        finish_connect(shared_from_this());
        return;
      }
      if (options_.user.empty()) {
        socket_->close(Status(Errc::unauthenticated, server_id_ + " requires a login: set a user and password"));
        return;
      }
      if (reply.iterations == 0 || reply.iterations > kMaxAuthIterations  /* a hostile server must not burn our CPU */) {
        socket_->close(Status(Errc::bad_request, "server asked for an unreasonable iteration count"));
        return;
      }
      salt_ = reply.salt;
      iterations_ = reply.iterations;
      auth_message_ = auth_message(options_.user, client_nonce_, reply.server_nonce);
      AuthRequest auth{client_proof(options_.password, salt_, iterations_, auth_message_)};
      socket_->send(make_frame(FrameType::auth, 0, encode(auth)));
      return;
    }
    case FrameType::auth_reply: {
      AuthReply reply;
      if (Status s = decode(body, reply, "auth reply"); !s.ok()) {
        socket_->close(s);
        return;
      }
      if (!verify_server_signature(options_.password, salt_, iterations_, auth_message_, reply.server_signature)) {
        socket_->close(Status(Errc::unauthenticated, "the server could not prove it knows user " + options_.user));
        return;
      }
      ready_ = true;
      sweep_deadlines();
      finish_connect(shared_from_this());
      return;
    }
    case FrameType::response: {
      auto it = pending_.find(header.id);
      if (it == pending_.end()) return;  // answered after its deadline: dropped
      auto handler = std::move(it->second.handler);
      pending_.erase(it);
      handler(std::string(body));
      return;
    }
    case FrameType::push:
      if (on_push_) on_push_(header.id, body);
      return;
    case FrameType::error: {
      Status status;
      if (Status s = decode(body, status, "error frame"); !s.ok()) status = s;
      if (status.ok()) status = Status(Errc::internal, "server sent an empty error frame");
      if (header.id != 0) {
        auto it = pending_.find(header.id);
        if (it != pending_.end()) {
          auto handler = std::move(it->second.handler);
          pending_.erase(it);
          handler(status);
        }
      }
      // The server closes after an error frame; make the reason the close status.
      socket_->close(status);
      return;
    }
    default:
      socket_->close(Status(Errc::bad_request, "server sent an unexpected frame type"));
      return;
  }
}

void RpcClient::call(std::string_view body, Clock::time_point deadline, ResponseHandler handler) {
  if (!is_open()) {
    handler(Status(Errc::unavailable, "not connected"));
    return;
  }
  std::uint64_t id = next_id_++;
  pending_.emplace(id, Pending{deadline, std::move(handler)});
  socket_->send(make_frame(FrameType::request, id, body));
}

bool RpcClient::notify(std::string_view body) {
  if (!is_open()) return false;
  socket_->send(make_frame(FrameType::request, 0, body));
  return true;
}

void RpcClient::call_frame(std::string frame, Clock::time_point deadline, ResponseHandler handler) {
  if (!is_open()) {
    handler(Status(Errc::unavailable, "not connected"));
    return;
  }
  std::uint64_t id = next_id_++;
  pending_.emplace(id, Pending{deadline, std::move(handler)});
  seal_frame(frame, FrameType::request, id);
  socket_->send(std::move(frame));
}

void RpcClient::sweep_deadlines() {
  auto now = Clock::now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline <= now) {
      auto handler = std::move(it->second.handler);
      it = pending_.erase(it);
      handler(Status(Errc::timeout, "no answer from " + server_id_ + " before the deadline"));
    } else {
      ++it;
    }
  }
  if (!socket_ || !socket_->is_open()) return;
  sweep_timer_.expires_after(kSweepPeriod);
  sweep_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->sweep_deadlines();
  });
}

void RpcClient::on_closed(const Status& why) {
  bool was_ready = ready_;
  ready_ = false;
  sweep_timer_.cancel();
  if (connect_done_) {
    auto done = std::move(connect_done_);
    connect_done_ = nullptr;
    done(why.ok() ? Status(Errc::unavailable, "connection closed during the handshake") : why);
  }
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) p.handler(why.ok() ? Status(Errc::unavailable, "connection closed") : why);
  if (was_ready && on_close_) {
    auto on_close = std::move(on_close_);
    on_close_ = nullptr;
    on_close(why);
  }
  on_push_ = nullptr;
}

void RpcClient::close() {
  if (socket_) socket_->close(Status(Errc::cancelled, "closed by the client"));
}

}  // namespace fourinone::core
