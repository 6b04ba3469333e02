#include "stream_connection.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <cstring>
#include <iostream>

namespace cachebench {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

StreamConnectionBase::StreamConnectionBase(tcp::socket socket, std::string_view surplus)
    : in_(kReadChunk), socket_(std::move(socket)), surplus_(surplus) {}

void StreamConnectionBase::send(std::size_t ops, BatchDone done) {
  pending_ = ops;
  result_ = {};
  done_ = std::move(done);
  if (ops == 0) return asio::post(socket_.get_executor(), [this] { finish(); });
  error_code ec;
  std::size_t written = socket_.write_some(asio::buffer(out_), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    written = 0;
    ec = {};
  }
  if (ec) {
    // Not from inside async_batch (see target.hpp): the caller may issue again from done.
    asio::post(socket_.get_executor(), [this, ec] { fail(ec.message()); });
    return;
  }
  if (written == out_.size()) return read_some();
  asio::async_write(socket_, asio::buffer(out_.data() + written, out_.size() - written),
                    [this](error_code ec, std::size_t) { ec ? fail(ec.message()) : read_some(); });
}

void StreamConnectionBase::read_some() {
  if (in_end_ == in_.size()) {
    // Full: move the unparsed part to the front, and grow when it fills the buffer.
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
    if (in_end_ == in_.size()) in_.resize(in_.size() * 2);
  }
  socket_.async_read_some(asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
                          [this](error_code ec, std::size_t n) { on_read(ec, n); });
}

void StreamConnectionBase::read_failed(error_code ec) {
  fail(ec == asio::error::eof ? "the server closed the connection" : ec.message());
}

void StreamConnectionBase::replies_done() {
  if (in_begin_ != in_end_) return fail(surplus_);
  in_begin_ = in_end_ = 0;
  finish();
}

void StreamConnectionBase::fail(const std::string& why) {
  if (result_.error.empty()) result_.error = why;
  result_.errors += pending_;
  pending_ = 0;
  error_code ignored;
  socket_.close(ignored);
  finish();
}

void StreamConnectionBase::finish() {
  // Moved out first: done may start the next batch, which reuses these members.
  BatchResult result = std::move(result_);
  BatchDone done = std::move(done_);
  done(result);
}

std::optional<tcp::socket> open_socket(asio::io_context& io, std::string_view who, const std::string& host,
                                       std::uint16_t port, const Greet& greet) {
  error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  tcp::socket socket(io);
  if (!ec) asio::connect(socket, endpoints, ec);
  if (!ec) socket.set_option(tcp::no_delay(true), ec);
  if (!ec && greet) ec = greet(socket);
  if (!ec) socket.non_blocking(true, ec);
  if (!ec) return socket;
  std::cerr << who << ": cannot connect to " << host << ":" << port << ": " << ec.message() << "\n";
  return std::nullopt;
}

}  // namespace cachebench
