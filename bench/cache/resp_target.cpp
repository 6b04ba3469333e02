// Redis for cache_bench: GET and SET over RESP, pipelined, on the caller's io_context.
//
// DESIGN: a batch is one write of RESP arrays (the encoding redis-benchmark sends), then reads
// until every reply is parsed. One batch at a time means at most one Asio operation is pending
// on a connection, so its handlers never overlap, however many threads run the io_context: no
// strand, no lock. The write is tried at once from async_batch (the socket is non-blocking):
// almost always it all goes, and only a remainder waits for Asio. Replies are parsed whole from
// the read buffer; one that a partial read cut is parsed again from its start when more bytes
// came, which costs little next to a system call and keeps the parser free of state.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <charconv>
#include <cstring>
#include <iostream>
#include <optional>
#include <string_view>

#include "target.hpp"

namespace cachebench {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

enum class ReplyKind { ok, miss, error };

struct Reply {
  ReplyKind kind = ReplyKind::ok;
  std::string_view text;  // an error's message, or why the reply is malformed
};

constexpr std::ptrdiff_t kIncomplete = 0;
constexpr std::ptrdiff_t kMalformed = -1;
// A header line longer than this without its CRLF is not a reply of ours.
constexpr std::size_t kMaxLine = 64 * 1024;

// Parses the reply at the start of `in`: the bytes it takes, kIncomplete when more must be
// read first, or kMalformed (reply.text says why). "+..." and ":..." are ok (SET answers
// "+OK"), "$N" bulk strings are a GET's hit and "$-1" its miss, "-..." an error.
std::ptrdiff_t parse_reply(std::string_view in, Reply& reply) {
  std::size_t eol = in.find("\r\n");
  if (eol == std::string_view::npos) {
    if (in.size() <= kMaxLine) return kIncomplete;
    reply.text = "a reply line without its end";
    return kMalformed;
  }
  if (eol == 0) {
    reply.text = "an empty reply line";
    return kMalformed;
  }
  std::string_view line = in.substr(1, eol - 1);
  auto head = static_cast<std::ptrdiff_t>(eol + 2);
  switch (in[0]) {
    case '+':
    case ':':
      reply = {ReplyKind::ok, line};
      return head;
    case '-':
      reply = {ReplyKind::error, line};
      return head;
    case '$': {
      long long length = 0;
      auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), length);
      if (ec != std::errc() || end != line.data() + line.size() || length < -1) {
        reply.text = "a bad bulk string length";
        return kMalformed;
      }
      if (length == -1) {
        reply = {ReplyKind::miss, {}};
        return head;
      }
      auto total = head + static_cast<std::ptrdiff_t>(length) + 2;
      if (static_cast<std::ptrdiff_t>(in.size()) < total) return kIncomplete;
      if (in.substr(static_cast<std::size_t>(total - 2), 2) != "\r\n") {
        reply.text = "a bulk string without its CRLF";
        return kMalformed;
      }
      reply = {ReplyKind::ok, {}};
      return total;
    }
    default:
      reply.text = "a reply of an unexpected type";
      return kMalformed;
  }
}

void append_number(std::string& out, std::size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

void append_bulk(std::string& out, std::string_view s) {
  out += '$';
  append_number(out, s.size());
  out += "\r\n";
  out += s;
  out += "\r\n";
}

class RespConnection final : public Connection {
 public:
  explicit RespConnection(tcp::socket socket) : socket_(std::move(socket)), in_(kReadChunk) {}

  void async_batch(const std::vector<Op>& ops, const std::string& value, BatchDone done) override {
    out_.clear();
    for (const Op& op : ops) {
      out_ += op.is_set ? "*3\r\n$3\r\nSET\r\n" : "*2\r\n$3\r\nGET\r\n";
      append_bulk(out_, op.key);
      if (op.is_set) append_bulk(out_, value);
    }
    pending_ = ops.size();
    result_ = {};
    done_ = std::move(done);
    if (ops.empty()) return asio::post(socket_.get_executor(), [this] { finish(); });
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

 private:
  static constexpr std::size_t kReadChunk = 64 * 1024;

  void read_some() {
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

  void on_read(error_code ec, std::size_t n) {
    if (ec) return fail(ec == asio::error::eof ? "the server closed the connection" : ec.message());
    in_end_ += n;
    while (pending_ > 0) {
      Reply reply;
      std::ptrdiff_t used = parse_reply({in_.data() + in_begin_, in_end_ - in_begin_}, reply);
      if (used == kIncomplete) return read_some();
      if (used == kMalformed) return fail("malformed reply: " + std::string(reply.text));
      in_begin_ += static_cast<std::size_t>(used);
      --pending_;
      if (reply.kind == ReplyKind::ok) ++result_.ok;
      if (reply.kind == ReplyKind::error) {
        // Redis answers every command, so the stream stays in step after an error reply.
        if (result_.errors++ == 0) result_.error = std::string(reply.text);
      }
    }
    if (in_begin_ != in_end_) return fail("more replies than commands");
    in_begin_ = in_end_ = 0;
    finish();
  }

  // The connection is of no more use: the replies still owed count as errors.
  void fail(const std::string& why) {
    if (result_.error.empty()) result_.error = why;
    result_.errors += pending_;
    pending_ = 0;
    error_code ignored;
    socket_.close(ignored);
    finish();
  }

  void finish() {
    // Moved out first: done may start the next batch, which reuses these members.
    BatchResult result = std::move(result_);
    BatchDone done = std::move(done_);
    done(result);
  }

  tcp::socket socket_;
  std::string out_;          // the batch's commands
  std::vector<char> in_;     // read buffer; [in_begin_, in_end_) is read and not yet parsed
  std::size_t in_begin_ = 0;
  std::size_t in_end_ = 0;
  std::size_t pending_ = 0;  // replies the batch still waits for
  BatchResult result_;
  BatchDone done_;
};

// A connected socket with Nagle off, non-blocking for async_batch's first write attempt.
std::optional<tcp::socket> open_socket(asio::io_context& io, const std::string& host, std::uint16_t port) {
  error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  tcp::socket socket(io);
  if (!ec) asio::connect(socket, endpoints, ec);
  if (!ec) socket.set_option(tcp::no_delay(true), ec);
  if (!ec) socket.non_blocking(true, ec);
  if (!ec) return socket;
  std::cerr << "redis: cannot connect to " << host << ":" << port << ": " << ec.message() << "\n";
  return std::nullopt;
}

class RespTarget final : public Target {
 public:
  RespTarget(asio::io_context& io, std::string host, std::uint16_t port)
      : io_(io), host_(std::move(host)), port_(port) {}

  std::string name() const override { return "redis"; }

  std::unique_ptr<Connection> connect(int /*index*/) override {
    auto socket = open_socket(io_, host_, port_);
    if (!socket) return nullptr;
    return std::make_unique<RespConnection>(std::move(*socket));
  }

 private:
  asio::io_context& io_;
  std::string host_;
  std::uint16_t port_;
};

}  // namespace

std::unique_ptr<Target> make_redis_target(boost::asio::io_context& io, const std::string& host, std::uint16_t port) {
  return std::make_unique<RespTarget>(io, host, port);
}

}  // namespace cachebench
