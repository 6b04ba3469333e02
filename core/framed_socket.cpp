#include "core/framed_socket.hpp"

#include <cstring>

#include "core/wire_archive.hpp"
#include "core/status_serialize.hpp"

namespace fourinone::core {
namespace {
constexpr std::size_t kReadChunk = 64 * 1024;
}

FramedSocket::FramedSocket(tcp::socket socket, std::uint32_t max_frame)
    : socket_(std::move(socket)), max_frame_(max_frame), in_(kReadChunk) {
  boost::system::error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  auto endpoint = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("?") : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

void FramedSocket::start(FrameHandler on_frame, CloseHandler on_close) {
  on_frame_ = std::move(on_frame);
  on_close_ = std::move(on_close);
  read_more();
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
  socket_.async_read_some(asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
                          [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                            if (ec) {
                              self->finish(Status(Errc::unavailable, "connection to " + self->peer_ + " lost: " +
                                                                         ec.message()));
                              return;
                            }
                            self->in_end_ += n;
                            self->parse_frames();
                            self->read_more();
                          });
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
  queued_.push_back(std::move(frame));
  if (!write_in_flight_) write_queued();
}

void FramedSocket::write_queued() {
  if (queued_.empty()) {
    if (closing_after_write_) finish(Status(Errc::bad_request, "closed after a protocol error"));
    return;
  }
  writing_.clear();
  writing_.swap(queued_);
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(writing_.size());
  for (const auto& f : writing_) buffers.emplace_back(asio::buffer(f));
  write_in_flight_ = true;
  asio::async_write(socket_, buffers, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
    self->write_in_flight_ = false;
    if (ec) {
      self->finish(Status(Errc::unavailable, "write to " + self->peer_ + " failed: " + ec.message()));
      return;
    }
    self->write_queued();
  });
}

void FramedSocket::fail(std::uint64_t id, const Status& status) {
  if (!open_ || closing_after_write_) return;
  queued_.push_back(make_frame(FrameType::error, id, encode(status)));
  closing_after_write_ = true;
  if (!write_in_flight_) write_queued();
}

void FramedSocket::close(const Status& why) { finish(why); }

void FramedSocket::finish(const Status& why) {
  if (!open_) return;
  open_ = false;
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  queued_.clear();
  auto on_close = std::move(on_close_);
  if (!dispatching_) on_frame_ = nullptr;  // else parse_frames drops it when the call returns
  if (on_close) on_close(why);
}

}  // namespace fourinone::core
