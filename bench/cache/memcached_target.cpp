// memcached for cache_bench: get and set over the text protocol, pipelined, on the caller's
// io_context.
//
// DESIGN: the same shape as resp_target.cpp (one write per batch, tried at once; replies
// parsed whole from the read buffer, again from their start after a partial read; one Asio
// operation pending per connection, so no strand). Only the encoding and the replies differ:
//   get key\r\n                  -> VALUE key flags bytes\r\n<data>\r\nEND\r\n (hit) | END\r\n
//   set key 0 0 N\r\n<data>\r\n  -> STORED\r\n | NOT_STORED\r\n
// An error reply (ERROR, CLIENT_ERROR, SERVER_ERROR) gives the connection up: after a refused
// set, memcached may read its data as a command, so the replies would no longer line up.
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
  std::string_view text;  // an error's line, or why the reply is malformed
};

constexpr std::ptrdiff_t kIncomplete = 0;
constexpr std::ptrdiff_t kMalformed = -1;
constexpr std::size_t kMaxLine = 64 * 1024;

// The data length of "VALUE <key> <flags> <bytes> [<cas>]", or nullopt.
std::optional<std::size_t> value_length(std::string_view line) {
  std::size_t at = 0;
  for (int field = 0; field < 3; ++field) {  // past "VALUE", the key and the flags
    at = line.find(' ', at);
    if (at == std::string_view::npos) return std::nullopt;
    ++at;
  }
  std::size_t length = 0;
  const char* end = line.data() + line.size();
  auto [stop, ec] = std::from_chars(line.data() + at, end, length);
  if (ec != std::errc() || (stop != end && *stop != ' ')) return std::nullopt;
  return length;
}

// Parses the reply at the start of `in`: the bytes it takes, kIncomplete when more must be
// read first, or kMalformed (reply.text says why).
std::ptrdiff_t parse_reply(std::string_view in, Reply& reply) {
  std::size_t eol = in.find("\r\n");
  if (eol == std::string_view::npos) {
    if (in.size() <= kMaxLine) return kIncomplete;
    reply.text = "a reply line without its end";
    return kMalformed;
  }
  std::string_view line = in.substr(0, eol);
  auto head = static_cast<std::ptrdiff_t>(eol + 2);
  if (line == "STORED") {
    reply = {ReplyKind::ok, {}};
    return head;
  }
  if (line == "END" || line == "NOT_STORED") {
    reply = {ReplyKind::miss, {}};
    return head;
  }
  if (line.starts_with("VALUE ")) {
    auto length = value_length(line);
    if (!length) {
      reply.text = "a bad VALUE line";
      return kMalformed;
    }
    // One key per get, so exactly one VALUE block, then END.
    auto data_end = head + static_cast<std::ptrdiff_t>(*length);
    auto total = data_end + 7;  // "\r\nEND\r\n"
    if (static_cast<std::ptrdiff_t>(in.size()) < total) return kIncomplete;
    if (in.substr(static_cast<std::size_t>(data_end), 7) != "\r\nEND\r\n") {
      reply.text = "a VALUE block without its END";
      return kMalformed;
    }
    reply = {ReplyKind::ok, {}};
    return total;
  }
  if (line == "ERROR" || line.starts_with("CLIENT_ERROR") || line.starts_with("SERVER_ERROR")) {
    reply = {ReplyKind::error, line};
    return head;
  }
  reply.text = "an unexpected reply line";
  return kMalformed;
}

void append_number(std::string& out, std::size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

class MemcachedConnection final : public Connection {
 public:
  explicit MemcachedConnection(tcp::socket socket) : socket_(std::move(socket)), in_(kReadChunk) {}

  void async_batch(const std::vector<Op>& ops, const std::string& value, BatchDone done) override {
    out_.clear();
    for (const Op& op : ops) {
      out_ += op.is_set ? "set " : "get ";
      out_ += op.key;
      if (op.is_set) {
        out_ += " 0 0 ";
        append_number(out_, value.size());
        out_ += "\r\n";
        out_ += value;
      }
      out_ += "\r\n";
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
      if (reply.kind == ReplyKind::error) return fail(std::string(reply.text));
      --pending_;
      if (reply.kind == ReplyKind::ok) ++result_.ok;
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
  std::cerr << "memcached: cannot connect to " << host << ":" << port << ": " << ec.message() << "\n";
  return std::nullopt;
}

class MemcachedTarget final : public Target {
 public:
  MemcachedTarget(asio::io_context& io, std::string host, std::uint16_t port)
      : io_(io), host_(std::move(host)), port_(port) {}

  std::string name() const override { return "memcached"; }

  std::unique_ptr<Connection> connect(int /*index*/) override {
    auto socket = open_socket(io_, host_, port_);
    if (!socket) return nullptr;
    return std::make_unique<MemcachedConnection>(std::move(*socket));
  }

 private:
  asio::io_context& io_;
  std::string host_;
  std::uint16_t port_;
};

}  // namespace

std::unique_ptr<Target> make_memcached_target(boost::asio::io_context& io, const std::string& host,
                                              std::uint16_t port) {
  return std::make_unique<MemcachedTarget>(io, host, port);
}

}  // namespace cachebench
