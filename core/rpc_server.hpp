// RpcServer: accepts connections, runs the hello/login handshake, and hands each request
// frame to an RpcHandler. Knows nothing of what the bodies mean.
//
// DESIGN: one io_context thread runs the acceptor, every connection and the handler calls,
// so handlers own their state without locks (Redis-style). Work that blocks goes elsewhere
// and posts its answer back to this thread. A connection must send a hello first; when users
// are configured it must then log in (challenge/response, never the password). Any other
// frame before that is refused with `unauthenticated` and the connection closes.
#pragma once


#include "core/asio.hpp"
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/framed_socket.hpp"
#include "fourinone/config.hpp"

namespace fourinone::core {

class RpcConnection;
using RpcConnectionPtr = std::shared_ptr<RpcConnection>;

class RpcHandler {
 public:
  virtual ~RpcHandler() = default;
  // After a successful handshake.
  virtual void on_open(const RpcConnectionPtr& /*connection*/) {}
  // One request; answer it (now or later) with connection->reply(id, ...). id 0 is a one-way
  // request (RpcClient::notify): reply() drops answers to it.
  virtual void on_request(const RpcConnectionPtr& connection, std::uint64_t id, std::string_view body) = 0;
  // True to get on_peek: each request already read, before any of them is handled.
  virtual bool wants_peek() const { return false; }
  // A look at a request that on_request will get soon; must change nothing.
  virtual void on_peek(std::string_view /*body*/) {}
  // Once, when a connection that was opened ends.
  virtual void on_close(const RpcConnectionPtr& /*connection*/) {}
};

struct RpcServerOptions {
  std::string server_id;                          // HOST:PORT we answer as
  std::uint32_t max_frame = kDefaultMaxFrame;
  std::vector<UserEntry> users;                   // empty: no login
  std::chrono::milliseconds handshake_timeout{5000};
  // The group members' login (core::kGroupUser, made from the group key): a hello naming it
  // must log in even when `users` is empty. nullopt: that name is no one in particular.
  std::optional<UserEntry> group_login;
  // TLS on every connection (TlsContext::for_server); nullptr: plain TCP. listen() refuses a
  // context whose status is not OK.
  std::shared_ptr<TlsContext> tls;
  // Counts the traffic of every connection (nullptr: not counted).
  std::shared_ptr<NetStats> stats;
};

class RpcConnection : public std::enable_shared_from_this<RpcConnection> {
 public:
  RpcConnection(std::shared_ptr<FramedSocket> socket, RpcHandler& handler, const RpcServerOptions& options);

  // Call on the server's io thread only.
  void reply(std::uint64_t id, std::string_view body);
  // The same for a body built in place after frame_buffer() (core/frame.hpp): no copy.
  void reply_frame(std::uint64_t id, std::string frame);
  void push(std::uint64_t stream, std::string_view body);
  void close(const Status& why);
  // Error frame for request `id` (0: the whole connection), then close: for garbage input.
  void fail(std::uint64_t id, const Status& status);

  bool is_open() const noexcept { return socket_->is_open(); }
  // The executor of the connection's io thread: reply, push, close and fail run there.
  asio::any_io_executor executor() { return socket_->executor(); }
  // True on the thread that runs this connection's io_context.
  bool on_own_thread();
  const std::string& peer() const noexcept { return socket_->peer(); }
  const std::string& user() const noexcept { return user_; }       // "" without login
  // Logged in with the group key: another park server of this group (core::kGroupUser).
  bool is_group_member() const noexcept { return group_member_; }
  std::uint64_t client_id() const noexcept { return client_id_; }
  // The identity used for permissions: the user, or "client-<id>" without logins.
  std::string identity() const;

  // Free slot for the handler's per-connection state.
  std::shared_ptr<void> handler_state;

  void start();

 private:
  enum class State { awaiting_hello, awaiting_auth, ready };
  void on_frame(const FrameHeader& header, std::string_view body);
  void on_hello(std::string_view body);
  void on_auth(std::string_view body);

  std::shared_ptr<FramedSocket> socket_;
  RpcHandler& handler_;
  const RpcServerOptions& options_;
  State state_ = State::awaiting_hello;
  std::string user_;
  std::uint64_t client_id_ = 0;
  std::string auth_message_;
  const UserEntry* login_user_ = nullptr;
  bool group_member_ = false;
  asio::steady_timer handshake_timer_;
};

class RpcServer {
 public:
  RpcServer(asio::io_context& io, RpcHandler& handler, RpcServerOptions options);
  ~RpcServer();

  // Spreads accepted connections over these io_contexts in turn (each run by a thread of its
  // own); a connection's handler calls then run on its io_context's thread. Empty (the
  // default): every connection lives on `io`. Call before listen().
  void set_connection_ios(std::vector<asio::io_context*> ios) { connection_ios_ = std::move(ios); }

  // Binds and starts accepting. Errors: unavailable naming the address and the reason, or the
  // TLS context's status (config_error).
  Status listen(const std::string& host, std::uint16_t port);
  std::uint16_t port() const;
  // Stops accepting and closes every connection (io thread only).
  void stop();

 private:
  void accept();

  asio::io_context& io_;
  RpcHandler& handler_;
  RpcServerOptions options_;
  tcp::acceptor acceptor_;
  std::vector<std::weak_ptr<RpcConnection>> connections_;
  std::vector<asio::io_context*> connection_ios_;
  std::size_t next_io_ = 0;
};

}  // namespace fourinone::core
