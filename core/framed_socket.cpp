#include "core/framed_socket.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <cstring>
#include <utility>

#include "core/wire_archive.hpp"
#include "core/status_serialize.hpp"

namespace fourinone::core {
namespace {
constexpr std::size_t kReadChunk = 64 * 1024;
}

FramedSocket::FramedSocket(tcp::socket socket, std::uint32_t max_frame, std::shared_ptr<TlsContext> tls,
                           const std::string& host)
    : socket_(std::move(socket)), tls_context_(std::move(tls)), max_frame_(max_frame), in_(kReadChunk) {
  boost::system::error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  auto endpoint = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("?") : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  if (tls_context_) {
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, tls_context_->native());
    if (tls_context_->side() == TlsContext::Side::client) TlsContext::prepare_client(tls_->native_handle(), host);
  }
}

void FramedSocket::start(FrameHandler on_frame, CloseHandler on_close) {
  on_frame_ = std::move(on_frame);
  on_close_ = std::move(on_close);
  if (tls_) {
    handshake();
  } else {
    read_more();
  }
}

void FramedSocket::handshake() {
  handshaking_ = true;
  if (tls_context_->side() == TlsContext::Side::client) {
    run_handshake();
    return;
  }
  // A server first peeks at the opening bytes: a client without TLS opens with our magic, and
  // gets an error frame it can read instead of a failed TLS handshake it would only see as a
  // closed connection.
  auto first = std::make_shared<std::array<unsigned char, 4>>();
  socket_.async_receive(
      asio::buffer(*first), tcp::socket::message_peek,
      [self = shared_from_this(), first](const boost::system::error_code& ec, std::size_t n) {
        if (!self->open_) return;
        if (ec) {
          self->finish(Status(Errc::unavailable, "connection to " + self->peer_ + " lost: " + ec.message()));
          return;
        }
        const auto& b = *first;
        const std::uint32_t magic = std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
        if (n == b.size() && magic == kFrameMagic) {
          self->refuse_plain_peer();
        } else {
          self->run_handshake();
        }
      });
}

void FramedSocket::refuse_plain_peer() {
  spdlog::warn("{} connected without TLS; refused (this server has PARK/TLSCA set)", peer_);
  // Read what it sent (its hello): a socket closed with unread bytes sends a reset, which
  // could reach the client before our answer does.
  boost::system::error_code ignored;
  std::vector<char> unread(socket_.available(ignored));
  socket_.read_some(asio::buffer(unread), ignored);
  handshaking_ = false;
  tls_.reset();  // the answer goes out in plain
  fail(0, Status(Errc::unauthenticated, "this server accepts only TLS connections: set PARK/TLSCA (the group's "
                                        "CA) in the client's config.xml"));
}

void FramedSocket::run_handshake() {
  const bool server = tls_context_->side() == TlsContext::Side::server;
  tls_->async_handshake(
      server ? asio::ssl::stream_base::server : asio::ssl::stream_base::client,
      [self = shared_from_this(), server](const boost::system::error_code& ec) {
        self->handshaking_ = false;
        if (!self->open_) return;
        if (ec) {
          std::string why = TlsContext::describe_failure(self->tls_->native_handle(), ec);
          // A server that closes at once most likely has no TLS on its port.
          if (!server && (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)) {
            why += " (has " + self->peer_ + " TLS on? PARK/TLSCA must be set on both sides)";
          }
          if (server) spdlog::warn("TLS handshake with {} failed: {}", self->peer_, why);
          self->finish(Status(Errc::unavailable, "TLS handshake with " + self->peer_ + " failed: " + why));
          return;
        }
        self->read_more();
        self->write_queued();  // what was sent during the handshake
      });
}

void FramedSocket::read_more() {
  if (!open_) return;
  // Compact: move the unparsed tail to the front, then make room for a chunk.
  if (in_begin_ > 0) {
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  if (in_.size() - in_end_ < kReadChunk / 4) in_.resize(std::max(in_.size() * 2, in_end_ + kReadChunk));
  auto on_read = [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
    if (ec) {
      // With TLS the reason may be an alert from the peer (no client certificate, say).
      std::string why = self->tls_ ? TlsContext::describe_failure(self->tls_->native_handle(), ec) : ec.message();
      self->finish(Status(Errc::unavailable, "connection to " + self->peer_ + " lost: " + why));
      return;
    }
    self->in_end_ += n;
    if (std::exchange(self->first_read_, false) && self->plain_peer_speaks_tls()) return;
    self->parse_frames();
    self->read_more();
  };
  on_stream([&](auto& stream) {
    stream.async_read_some(asio::buffer(in_.data() + in_end_, in_.size() - in_end_), std::move(on_read));
  });
}

// A plain socket whose peer opens with a TLS record (a TLS client's hello, or an alert) closes
// with a reason that says so, instead of answering "bad magic" to a peer that cannot read it.
bool FramedSocket::plain_peer_speaks_tls() {
  if (tls_ || !looks_like_tls({in_.data() + in_begin_, in_end_ - in_begin_})) return false;
  spdlog::warn("{} speaks TLS and this side does not: set PARK/TLSCA (and TLSCERT, TLSKEY) on both sides", peer_);
  finish(Status(Errc::unavailable, peer_ + " speaks TLS and this side does not: set PARK/TLSCA (and TLSCERT, "
                                           "TLSKEY for servers) on both sides"));
  return true;
}

void FramedSocket::parse_frames() {
  if (on_peek_) {
    for (std::size_t at = in_begin_; in_end_ - at >= kFrameHeaderSize;) {
      FrameHeader header = decode_header(in_.data() + at);
      const std::size_t total = kFrameHeaderSize + header.body_length;
      if (!check_header(header, max_frame_).ok() || in_end_ - at < total) break;
      if (header.type == FrameType::request) on_peek_({in_.data() + at + kFrameHeaderSize, header.body_length});
      at += total;
    }
  }
  while (open_ && !closing_after_write_ && in_end_ - in_begin_ >= kFrameHeaderSize) {
    FrameHeader header = decode_header(in_.data() + in_begin_);
    if (Status s = check_header(header, max_frame_); !s.ok()) {
      fail(0, s);
      return;
    }
    std::size_t total = kFrameHeaderSize + header.body_length;
    if (in_end_ - in_begin_ < total) {
      // The body is not all here; make sure the buffer can hold it (the limit was checked).
      if (in_.size() - in_begin_ < total) {
        std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
        in_end_ -= in_begin_;
        in_begin_ = 0;
        in_.resize(std::max(total, in_.size()));
      }
      return;
    }
    std::string_view body(in_.data() + in_begin_ + kFrameHeaderSize, header.body_length);
    in_begin_ += total;
    if (stats_) stats_->received_bytes.add(total);
    dispatching_ = true;
    on_frame_(header, body);
    dispatching_ = false;
  }
  if (!open_) on_frame_ = nullptr;  // breaks the handler's reference cycle
  // Give back memory after a large frame.
  if (in_begin_ == in_end_ && in_.size() > 4 * kReadChunk) {
    in_.assign(kReadChunk, 0);
    in_begin_ = in_end_ = 0;
  }
}

void FramedSocket::send(std::string frame) {
  if (!open_ || closing_after_write_) return;
  if (stats_) stats_->sent_bytes.add(frame.size());
  queued_.push_back(std::move(frame));
  if (!write_in_flight_ && !handshaking_) write_queued();
}

void FramedSocket::write_queued() {
  if (queued_.empty()) {
    if (closing_after_write_) finish(Status(Errc::bad_request, "closed after a protocol error"));
    return;
  }
  writing_.clear();
  writing_.swap(queued_);
  if (tls_ && writing_.size() > 1) {
    // An SSL stream encrypts only the first buffer of a gather per write: joined, the frames
    // leave as full TLS records in one syscall rather than one each.
    std::string joined;
    for (const auto& f : writing_) joined += f;
    writing_.assign(1, std::move(joined));
  }
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(writing_.size());
  for (const auto& f : writing_) buffers.emplace_back(asio::buffer(f));
  write_in_flight_ = true;
  auto on_written = [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
    self->write_in_flight_ = false;
    if (ec) {
      self->finish(Status(Errc::unavailable, "write to " + self->peer_ + " failed: " + ec.message()));
      return;
    }
    self->write_queued();
  };
  on_stream([&](auto& stream) { asio::async_write(stream, buffers, std::move(on_written)); });
}

void FramedSocket::fail(std::uint64_t id, const Status& status) {
  if (!open_ || closing_after_write_) return;
  if (handshaking_) {  // no frame can be sent before the TLS handshake ends
    finish(status);
    return;
  }
  queued_.push_back(make_frame(FrameType::error, id, encode(status)));
  closing_after_write_ = true;
  if (!write_in_flight_) write_queued();
}

void FramedSocket::close(const Status& why) { finish(why); }

void FramedSocket::finish(const Status& why) {
  if (!open_) return;
  open_ = false;
  // With TLS too the TCP socket just closes, without a close_notify: what had to be written is
  // written by now, and the peer takes the end of the stream as the end of the connection.
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  queued_.clear();
  auto on_close = std::move(on_close_);
  if (!dispatching_) on_frame_ = nullptr;  // else parse_frames drops it when the call returns
  if (on_close) on_close(why);
}

}  // namespace fourinone::core
