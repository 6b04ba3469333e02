// The pipelined batch over one TCP stream that the Redis (resp_target.cpp), memcached
// (memcached_target.cpp) and our cache's wire (wire_target.cpp) targets share; each of them
// only gives a Protocol: how a request is written and how a reply is parsed.
//
// DESIGN: a batch is one write of every op's request, then reads until every reply is parsed.
// One batch at a time means at most one Asio operation is pending on a connection, so its
// handlers never overlap, however many threads run the io_context: no strand, no lock. The
// write is tried at once from async_batch (the socket is non-blocking): almost always it all
// goes, and only a remainder waits for Asio. Replies are parsed whole from the read buffer; one
// that a partial read cut is parsed again from its start when more bytes came, which costs
// little next to a system call and keeps the parsers free of state.
//
// The connection is a template over its Protocol, not a virtual call per op: the parser then
// inlines into the reply loop as it did in each target before, and the generator, which shares
// the cores with the servers it measures, spends no more CPU per op than then.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "target.hpp"

namespace cachebench {

enum class ReplyKind { ok, miss, error };

struct Reply {
  ReplyKind kind = ReplyKind::ok;
  // An error reply's message, or why the stream cannot be followed (kMalformed, kGiveUp).
  // May point into the parsed bytes: it is read before they change.
  std::string_view text;
};

// What parse_reply returns when it did not take a whole reply (a reply is never empty).
constexpr std::ptrdiff_t kIncomplete = 0;  // more must be read first
constexpr std::ptrdiff_t kMalformed = -1;  // not a reply; the batch fails with "malformed reply: <text>"
constexpr std::ptrdiff_t kGiveUp = -2;     // the stream cannot be followed further; it fails with <text>

// What a target tells the connection about its protocol.
//   append_request: appends the request for `op` to `out`; `value` is the batch's for a SET.
//   parse_reply: parses the reply at the start of `in`: the bytes it takes, or kIncomplete,
//     kMalformed or kGiveUp. An error reply (ReplyKind::error) counts and the batch goes on;
//     a protocol whose replies no longer line up after one returns kGiveUp instead.
//   kSurplus: the failure for bytes left after a batch's last reply.
template <class P>
concept Protocol = requires(P p, const Op& op, const std::string& value, std::string& out, std::string_view in,
                            Reply& reply) {
  p.append_request(op, value, out);
  { p.parse_reply(in, reply) } -> std::same_as<std::ptrdiff_t>;
  { P::kSurplus } -> std::convertible_to<std::string_view>;
};

// The part of the connection that does not depend on the protocol (stream_connection.cpp).
class StreamConnectionBase : public Connection {
 protected:
  // `socket` connected and non-blocking (open_socket).
  StreamConnectionBase(boost::asio::ip::tcp::socket socket, std::string_view surplus);

  // Sends out_, the requests of `ops` ops, then reads until their replies are parsed.
  void send(std::size_t ops, BatchDone done);
  void read_some();
  // What on_read calls when a read failed, and when the batch's last reply was parsed.
  void read_failed(boost::system::error_code ec);
  void replies_done();
  // The connection is of no more use: the replies still owed count as errors.
  void fail(const std::string& why);

  std::string out_;          // the batch's requests
  std::vector<char> in_;     // read buffer; [in_begin_, in_end_) is read and not yet parsed
  std::size_t in_begin_ = 0;
  std::size_t in_end_ = 0;
  std::size_t pending_ = 0;  // replies the batch still waits for
  BatchResult result_;

 private:
  static constexpr std::size_t kReadChunk = 64 * 1024;

  // Parses what came, the protocol's part: StreamConnection below.
  virtual void on_read(boost::system::error_code ec, std::size_t n) = 0;
  void finish();

  boost::asio::ip::tcp::socket socket_;
  std::string surplus_;
  BatchDone done_;
};

template <Protocol P>
class StreamConnection final : public StreamConnectionBase {
 public:
  explicit StreamConnection(boost::asio::ip::tcp::socket socket, P protocol = {})
      : StreamConnectionBase(std::move(socket), P::kSurplus), protocol_(std::move(protocol)) {}

  void async_batch(const std::vector<Op>& ops, const std::string& value, BatchDone done) override {
    out_.clear();
    for (const Op& op : ops) protocol_.append_request(op, value, out_);
    send(ops.size(), std::move(done));
  }

 private:
  void on_read(boost::system::error_code ec, std::size_t n) override {
    if (ec) return read_failed(ec);
    in_end_ += n;
    while (pending_ > 0) {
      Reply reply;
      std::ptrdiff_t used = protocol_.parse_reply({in_.data() + in_begin_, in_end_ - in_begin_}, reply);
      if (used == kIncomplete) return read_some();
      if (used == kMalformed) return fail("malformed reply: " + std::string(reply.text));
      if (used == kGiveUp) return fail(std::string(reply.text));
      in_begin_ += static_cast<std::size_t>(used);
      --pending_;
      if (reply.kind == ReplyKind::ok) ++result_.ok;
      if (reply.kind == ReplyKind::error && result_.errors++ == 0) result_.error = std::string(reply.text);
    }
    replies_done();
  }

  P protocol_;
};

// Runs on the connected, still blocking socket before it turns non-blocking (a handshake).
using Greet = std::function<boost::system::error_code(boost::asio::ip::tcp::socket&)>;

// A connected socket with Nagle off, greeted when `greet` is given, then non-blocking for
// async_batch's first write attempt. nullopt, after "<who>: cannot connect to host:port: ..."
// on stderr, when any step fails.
std::optional<boost::asio::ip::tcp::socket> open_socket(boost::asio::io_context& io, std::string_view who,
                                                        const std::string& host, std::uint16_t port,
                                                        const Greet& greet = {});

// The target of a server at host:port whose connections need nothing but a socket from
// open_socket and a default P (Redis, memcached).
template <Protocol P>
class SocketTarget final : public Target {
 public:
  SocketTarget(boost::asio::io_context& io, std::string name, std::string host, std::uint16_t port)
      : io_(io), name_(std::move(name)), host_(std::move(host)), port_(port) {}

  std::string name() const override { return name_; }

  std::unique_ptr<Connection> connect(int /*index*/) override {
    auto socket = open_socket(io_, name_, host_, port_);
    if (!socket) return nullptr;
    return std::make_unique<StreamConnection<P>>(std::move(*socket));
  }

 private:
  boost::asio::io_context& io_;
  std::string name_;
  std::string host_;
  std::uint16_t port_;
};

}  // namespace cachebench
