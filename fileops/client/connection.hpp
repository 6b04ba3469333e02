// FttpConnection: one connection to a file server, with its own io thread.
//
// DESIGN: the RpcClient lives on this object's io thread; callers on any thread build their
// request frame themselves (so a block is encoded, or pread, straight into the frame) and
// post it there. Many calls may be in flight; their callbacks run on the io thread, one at a
// time, and must not block for long. A connection that broke stays broken (is_open() false):
// the pool makes a new one.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/asio.hpp"
#include "core/rpc_client.hpp"
#include "fileops/protocol/messages.hpp"
#include "fourinone/config.hpp"

namespace fourinone::fileops {

struct Reply {
  proto::Response head;
  std::string body;            // the whole response body
  std::size_t data_at = 0;     // the data's place in `body`
  std::size_t data_size = 0;
  std::string_view data() const { return std::string_view(body).substr(data_at, data_size); }
};

struct ConnectionOptions {
  core::RpcClientOptions rpc;
  std::chrono::milliseconds call_timeout{30000};
};

class FttpConnection {
 public:
  using Done = std::function<void(Result<Reply>)>;

  // Connects (and logs in). Errors: unavailable, unauthenticated, timeout.
  static Result<std::unique_ptr<FttpConnection>> open(const ServerAddress& server, const ConnectionOptions& options);
  ~FttpConnection();

  // A frame for `request` + `data`, ready for async_call_frame (data is copied in once).
  static std::string make_frame(const proto::Request& request, std::string_view data);
  // A frame for `request` with room for n bytes of data at its end (frame.size() - n), for
  // the caller to fill in place (pread of a file block).
  static std::string frame_with_room(const proto::Request& request, std::size_t n);
  // Sends `frame` (from make_frame, or frame_buffer + encode_body); `done` gets the reply on
  // the io thread: an error Status for a failed call or an error answer.
  // timeout 0: the connection's call timeout.
  void async_call_frame(std::string frame, Done done, std::chrono::milliseconds timeout = {});
  // Blocking. REQUIRES: not on this connection's io thread.
  Result<Reply> call(const proto::Request& request, std::string_view data = {}, std::chrono::milliseconds timeout = {});

  bool is_open() const;
  const std::string& server() const { return server_; }

 private:
  FttpConnection(std::string server, std::chrono::milliseconds call_timeout);

  std::string server_;
  std::chrono::milliseconds call_timeout_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::shared_ptr<core::RpcClient> rpc_;  // io thread only, after open()
  std::atomic<bool> open_{false};
};

// A reply body -> Reply, or the Status the server answered with.
Result<Reply> parse_reply(std::string body);

}  // namespace fourinone::fileops
