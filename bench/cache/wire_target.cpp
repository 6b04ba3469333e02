// Our cache for cache_bench at the wire, as the Redis and memcached targets are: frames written
// and parsed by hand on the caller's io_context, no client library. It measures the servers
// alone, with a load generator as light as the peers' (the "fourinone" target measures them
// through the client library users link, routing, deadlines and retries included).
//
// Setup (blocking): the client library finds the primary of the group that owns the keys and
// the layout version; every connection says hello and then sends requests routed with that
// version. One group only: a key of another group would be answered stale_layout, which the
// batch counts as an error.
//
// DESIGN: the same as resp_target.cpp: a batch is one write of request frames, then reads
// until every answer is parsed; at most one Asio operation pending per connection.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <cstring>
#include <iostream>
#include <optional>

#include "bench/cache/target.hpp"
#include "cache/protocol/views.hpp"
#include "core/frame.hpp"
#include "fourinone/cache.hpp"

namespace cachebench {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
namespace proto = fourinone::cache::proto;
namespace core = fourinone::core;

std::uint64_t read_le64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// The request/item codes of an answer body without decoding the rest: code u8, message
// (u64 length + bytes), layout version u64, then the item's code u8.
bool answer_codes(std::string_view body, std::uint8_t& code, std::uint8_t& item_code) {
  if (body.size() < 1 + 8) return false;
  code = static_cast<std::uint8_t>(body[0]);
  const std::uint64_t message = read_le64(body.data() + 1);
  const std::size_t at = 1 + 8 + message + 8;
  if (message > body.size() || body.size() < at + 1) return false;
  item_code = static_cast<std::uint8_t>(body[at]);
  return true;
}

class WireConnection final : public Connection {
 public:
  WireConnection(tcp::socket socket, std::uint64_t layout_version)
      : socket_(std::move(socket)), layout_version_(layout_version), in_(kReadChunk) {}

  void async_batch(const std::vector<Op>& ops, const std::string& value, BatchDone done) override {
    out_.clear();
    for (const Op& op : ops) {
      const std::size_t start = out_.size();
      out_.resize(start + core::kFrameHeaderSize);
      core::WireOutputArchive ar(out_);
      ar(static_cast<std::uint8_t>(op.is_set ? proto::Op::set : proto::Op::get), layout_version_,
         std::uint64_t{0});
      proto::append_item(out_, op.key, op.is_set ? std::string_view(value) : std::string_view(), 0, 0, 0);
      ar(cereal::make_size_tag(static_cast<cereal::size_type>(0)));  // no items
      core::encode_header({core::kFrameMagic, core::kProtocolVersion, core::FrameType::request, ++next_id_,
                           static_cast<std::uint32_t>(out_.size() - start - core::kFrameHeaderSize)},
                          out_.data() + start);
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
      if (in_end_ - in_begin_ < core::kFrameHeaderSize) return read_some();
      auto header = core::decode_header(in_.data() + in_begin_);
      if (header.magic != core::kFrameMagic) return fail("not a Fourinone frame");
      const std::size_t total = core::kFrameHeaderSize + header.body_length;
      if (in_end_ - in_begin_ < total) return read_some();
      std::string_view body(in_.data() + in_begin_ + core::kFrameHeaderSize, header.body_length);
      in_begin_ += total;
      --pending_;
      std::uint8_t code = 0, item_code = 0;
      if (header.type != core::FrameType::response || !answer_codes(body, code, item_code)) {
        return fail("an answer that is not a cache response");
      }
      if (code == 0 && item_code == 0) {
        ++result_.ok;
      } else if (code != 0 || item_code != static_cast<std::uint8_t>(fourinone::Errc::not_found)) {
        if (result_.errors++ == 0) {
          result_.error = std::string("error code ") + fourinone::errc_name(static_cast<fourinone::Errc>(code ? code : item_code));
        }
      }
    }
    if (in_begin_ != in_end_) return fail("more answers than requests");
    in_begin_ = in_end_ = 0;
    finish();
  }

  void fail(const std::string& why) {
    if (result_.error.empty()) result_.error = why;
    result_.errors += pending_;
    pending_ = 0;
    error_code ignored;
    socket_.close(ignored);
    finish();
  }

  void finish() {
    BatchResult result = std::move(result_);
    BatchDone done = std::move(done_);
    done(result);
  }

  tcp::socket socket_;
  std::uint64_t layout_version_;
  std::uint64_t next_id_ = 0;
  std::string out_;
  std::vector<char> in_;
  std::size_t in_begin_ = 0;
  std::size_t in_end_ = 0;
  std::size_t pending_ = 0;
  BatchResult result_;
  BatchDone done_;
};

class WireTarget final : public Target {
 public:
  WireTarget(asio::io_context& io, fourinone::ServerAddress primary, std::uint64_t layout_version)
      : io_(io), primary_(std::move(primary)), layout_version_(layout_version) {}

  std::string name() const override { return "fourinone-wire"; }

  std::unique_ptr<Connection> connect(int index) override {
    error_code ec;
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(primary_.host, std::to_string(primary_.port), ec);
    tcp::socket socket(io_);
    if (!ec) asio::connect(socket, endpoints, ec);
    if (!ec) socket.set_option(tcp::no_delay(true), ec);
    if (!ec) {
      // The hello, blocking: no login (the bench's park has no USERS).
      std::string hello = core::make_frame(core::FrameType::hello, 0,
                                           core::encode(core::HelloRequest{static_cast<std::uint64_t>(index) + 1, "", "n"}));
      asio::write(socket, asio::buffer(hello), ec);
      char head[core::kFrameHeaderSize];
      if (!ec) asio::read(socket, asio::buffer(head), ec);
      if (!ec) {
        auto header = core::decode_header(head);
        std::string body(header.body_length, '\0');
        asio::read(socket, asio::buffer(body), ec);
        if (!ec && header.type != core::FrameType::hello_reply) ec = asio::error::connection_refused;
      }
    }
    if (!ec) socket.non_blocking(true, ec);
    if (ec) {
      std::cerr << "fourinone-wire: cannot connect to " << primary_.to_string() << ": " << ec.message() << "\n";
      return nullptr;
    }
    return std::make_unique<WireConnection>(std::move(socket), layout_version_);
  }

 private:
  asio::io_context& io_;
  fourinone::ServerAddress primary_;
  std::uint64_t layout_version_;
};

}  // namespace

std::unique_ptr<Target> make_fourinone_wire_target(boost::asio::io_context& io, const std::string& config_path) {
  auto config = fourinone::load_config(config_path);
  if (!config.ok()) {
    std::cerr << "cache_bench: " << config.status().to_string() << "\n";
    return nullptr;
  }
  auto cache = fourinone::Cache::connect(config.value());
  if (!cache.ok()) {
    std::cerr << "cache_bench: " << cache.status().to_string() << "\n";
    return nullptr;
  }
  auto groups = cache.value()->groups();
  auto stats = cache.value()->stats();
  if (groups.size() != 1 || !stats.ok()) {
    std::cerr << "cache_bench: the fourinone-wire target needs exactly one cache group\n";
    return nullptr;
  }
  for (const auto& s : stats.value()) {
    if (s.role != "primary") continue;
    auto address = fourinone::parse_server_address(s.server);
    if (!address.ok()) break;
    return std::make_unique<WireTarget>(io, address.value(), cache.value()->layout_version());
  }
  std::cerr << "cache_bench: no primary found for the fourinone-wire target\n";
  return nullptr;
}

}  // namespace cachebench
