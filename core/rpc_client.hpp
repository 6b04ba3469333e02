// RpcClient: one connection from a client to a server, with many requests in flight.
//
// DESIGN: all methods run on the owning io_context thread (callers post to it). Requests get
// ids; responses may arrive in any order and are matched by id. Each call has a deadline;
// one timer sweeps the pending calls (cheaper than a timer per call). When the connection
// ends, every pending call fails with the reason (unavailable); retrying is the caller's
// business, since only it knows whether a call is safe to repeat.
#pragma once


#include "core/asio.hpp"
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/framed_socket.hpp"
#include "fourinone/config.hpp"

namespace fourinone::core {

struct RpcClientOptions {
  std::uint64_t client_id = 0;
  std::string user;  // empty: no login
  std::string password;
  std::chrono::milliseconds connect_timeout{3000};
  std::uint32_t max_frame = kDefaultMaxFrame;
  // TLS to the server (TlsContext::for_client), which must show a certificate naming the host
  // connected to; nullptr: plain TCP. connect() fails with the context's status when not OK.
  std::shared_ptr<TlsContext> tls;
};

// A random, non-zero client id (0 means "none" on the wire).
std::uint64_t random_client_id();

class RpcClient : public std::enable_shared_from_this<RpcClient> {
 public:
  using Clock = std::chrono::steady_clock;
  using ResponseHandler = std::function<void(Result<std::string> body)>;
  using PushHandler = std::function<void(std::uint64_t stream, std::string_view body)>;
  using CloseHandler = std::function<void(const Status& why)>;
  using ConnectHandler = std::function<void(Result<std::shared_ptr<RpcClient>>)>;

  // Connects, runs the TLS handshake when options.tls is set, says hello and logs in when
  // options.user is set; `done` gets a ready client or unavailable / unauthenticated / timeout
  // (or config_error from options.tls).
  static void connect(asio::io_context& io, const ServerAddress& address, const RpcClientOptions& options,
                      ConnectHandler done);

  explicit RpcClient(asio::io_context& io, RpcClientOptions options);

  void call(std::string_view body, Clock::time_point deadline, ResponseHandler handler);
  // The same for a body built in place after frame_buffer() (core/frame.hpp): no copy.
  void call_frame(std::string frame, Clock::time_point deadline, ResponseHandler handler);
  // A one-way request (id 0): the server handles it and never answers. false when not
  // connected. For messages whose loss the sender notices by other means: Raft's messages
  // between park servers (Raft resends from its own state) save a frame each way.
  bool notify(std::string_view body);
  void set_push_handler(PushHandler handler) { on_push_ = std::move(handler); }
  // Called once when an established connection ends.
  void set_close_handler(CloseHandler handler) { on_close_ = std::move(handler); }
  void close();

  bool is_open() const noexcept { return socket_ && socket_->is_open() && ready_; }
  const std::string& server_id() const noexcept { return server_id_; }
  std::size_t pending() const noexcept { return pending_.size(); }

 private:
  struct Pending {
    Clock::time_point deadline;
    ResponseHandler handler;
  };
  void start_handshake(tcp::socket socket, const std::string& host, ConnectHandler done);
  void on_frame(const FrameHeader& header, std::string_view body);
  void on_closed(const Status& why);
  void sweep_deadlines();

  RpcClientOptions options_;
  std::shared_ptr<FramedSocket> socket_;
  asio::steady_timer sweep_timer_;
  std::string server_id_;
  std::string client_nonce_;
  std::string auth_message_;
  std::string salt_;
  std::uint32_t iterations_ = 0;
  bool ready_ = false;
  ConnectHandler connect_done_;  // set until the handshake finishes
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, Pending> pending_;
  PushHandler on_push_;
  CloseHandler on_close_;
};

}  // namespace fourinone::core
