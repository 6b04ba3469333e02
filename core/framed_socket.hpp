// FramedSocket: one TCP connection that reads and writes frames (core/frame.hpp).
//
// DESIGN: everything runs on the socket's io_context thread; send() and close() must be
// called there (post to it from elsewhere). Reads fill a buffer with as many bytes as the
// kernel has and parse every complete frame in it, so pipelined requests cost one read
// syscall, not one per frame. A header is checked before its body is buffered: a frame over
// the limit, a bad magic/version/type gets an error frame (id 0) and the connection closes.
// Writes queue up while one is in flight and then go out together in one gathered write.
// With TLS (core/tls.hpp) the socket is wrapped in an SSL stream and start() runs the TLS
// handshake first: frames sent meanwhile wait in the queue, and the handshake timeout of the
// server (fail() during the handshake) closes at once.
#pragma once


#include "core/asio.hpp"
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/frame.hpp"
#include "core/metrics.hpp"
#include "core/tls.hpp"
#include "fourinone/error.hpp"

namespace fourinone::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class FramedSocket : public std::enable_shared_from_this<FramedSocket> {
 public:
  using FrameHandler = std::function<void(const FrameHeader& header, std::string_view body)>;
  using CloseHandler = std::function<void(const Status& why)>;

  // `tls` (nullptr: plain TCP) must have an OK status. Its side says whether this end runs the
  // handshake as the server or as the client; a client checks that the server's certificate
  // names `host` (the host it connected to, as config.xml spells it).
  FramedSocket(tcp::socket socket, std::uint32_t max_frame, std::shared_ptr<TlsContext> tls = nullptr,
               const std::string& host = "");
  std::uint32_t max_frame() const noexcept { return max_frame_; }

  // Starts reading (after the TLS handshake, with TLS). on_frame gets each frame; on_close is
  // called once when the connection ends for any reason (after which nothing else is called).
  void start(FrameHandler on_frame, CloseHandler on_close);

  // Optional: called with the body of every complete request frame already read, before any
  // of them is handed to on_frame, so a handler can start fetching what they will need (the
  // cache prefetches its keys' memory). It must not change anything.
  using PeekHandler = std::function<void(std::string_view body)>;
  void set_peek_handler(PeekHandler on_peek) { on_peek_ = std::move(on_peek); }

  void send(std::string frame);
  // Adds the bytes of every frame read and queued for sending to these counters (/metrics).
  void count_into(std::shared_ptr<NetStats> stats) { stats_ = std::move(stats); }
  // Sends an error frame and closes once it is written.
  void fail(std::uint64_t id, const Status& status);
  void close(const Status& why);

  bool is_open() const noexcept { return open_; }
  const std::string& peer() const noexcept { return peer_; }
  asio::any_io_executor executor() { return socket_.get_executor(); }

 private:
  void handshake();
  void refuse_plain_peer();
  void run_handshake();
  void read_more();
  bool plain_peer_speaks_tls();
  void parse_frames();
  void write_queued();
  void finish(const Status& why);
  // Calls op(stream) with the TLS stream or the plain socket.
  template <class Op>
  void on_stream(Op&& op) {
    if (tls_) {
      op(*tls_);
    } else {
      op(socket_);
    }
  }

  tcp::socket socket_;
  std::shared_ptr<TlsContext> tls_context_;  // keeps the SSL_CTX of tls_ alive
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;  // over socket_; nullptr: plain TCP
  bool handshaking_ = false;  // TLS handshake in progress: writes wait, reads have not started
  bool first_read_ = true;    // nothing received yet
  std::uint32_t max_frame_;
  std::string peer_;
  bool open_ = true;
  bool closing_after_write_ = false;
  bool dispatching_ = false;  // inside on_frame_: it must not be destroyed now
  FrameHandler on_frame_;
  CloseHandler on_close_;
  PeekHandler on_peek_;
  std::shared_ptr<NetStats> stats_;

  std::vector<char> in_;        // received bytes; [in_begin_, in_end_) not parsed yet
  std::size_t in_begin_ = 0;
  std::size_t in_end_ = 0;

  std::vector<std::string> queued_;   // frames waiting for the next write
  std::vector<std::string> writing_;  // frames of the write in flight
  bool write_in_flight_ = false;
};

}  // namespace fourinone::core
