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
// DESIGN: stream_connection.hpp's batch, as for Redis: one write of request frames, then reads
// until every answer is parsed; at most one Asio operation pending per connection.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <iostream>

#include "bench/cache/stream_connection.hpp"
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

// Our request and answer frames for StreamConnection.
class Wire {
 public:
  static constexpr std::string_view kSurplus = "more answers than requests";

  explicit Wire(std::uint64_t layout_version) : layout_version_(layout_version) {}

  void append_request(const Op& op, const std::string& value, std::string& out) {
    const std::size_t start = out.size();
    out.resize(start + core::kFrameHeaderSize);
    core::WireOutputArchive ar(out);
    ar(static_cast<std::uint8_t>(op.is_set ? proto::Op::set : proto::Op::get), layout_version_, std::uint64_t{0});
    proto::append_item(out, op.key, op.is_set ? std::string_view(value) : std::string_view(), 0, 0, 0);
    ar(cereal::make_size_tag(static_cast<cereal::size_type>(0)));  // no items
    core::encode_header({core::kFrameMagic, core::kProtocolVersion, core::FrameType::request, ++next_id_,
                         static_cast<std::uint32_t>(out.size() - start - core::kFrameHeaderSize)},
                        out.data() + start);
  }

  // One answer frame: ok when both codes are ok, a miss when the item is not_found, else an
  // error named by the first code that is not ok.
  std::ptrdiff_t parse_reply(std::string_view in, Reply& reply) {
    if (in.size() < core::kFrameHeaderSize) return kIncomplete;
    auto header = core::decode_header(in.data());
    if (header.magic != core::kFrameMagic) {
      reply.text = "not a Fourinone frame";
      return kGiveUp;
    }
    const std::size_t total = core::kFrameHeaderSize + header.body_length;
    if (in.size() < total) return kIncomplete;
    std::uint8_t code = 0, item_code = 0;
    if (header.type != core::FrameType::response ||
        !answer_codes(in.substr(core::kFrameHeaderSize, header.body_length), code, item_code)) {
      reply.text = "an answer that is not a cache response";
      return kGiveUp;
    }
    if (code == 0 && item_code == 0) {
      reply.kind = ReplyKind::ok;
    } else if (code != 0 || item_code != static_cast<std::uint8_t>(fourinone::Errc::not_found)) {
      error_ = std::string("error code ") + fourinone::errc_name(static_cast<fourinone::Errc>(code ? code : item_code));
      reply = {ReplyKind::error, error_};
    } else {
      reply.kind = ReplyKind::miss;
    }
    return static_cast<std::ptrdiff_t>(total);
  }

 private:
  std::uint64_t layout_version_;
  std::uint64_t next_id_ = 0;
  std::string error_;  // the text of the last error reply, which reply.text points to
};

class WireTarget final : public Target {
 public:
  WireTarget(asio::io_context& io, fourinone::ServerAddress primary, std::uint64_t layout_version)
      : io_(io), primary_(std::move(primary)), layout_version_(layout_version) {}

  std::string name() const override { return "fourinone-wire"; }

  std::unique_ptr<Connection> connect(int index) override {
    // The hello, blocking: no login (the bench's park has no USERS).
    auto greet = [index](tcp::socket& socket) {
      std::string hello = core::make_frame(core::FrameType::hello, 0,
                                           core::encode(core::HelloRequest{static_cast<std::uint64_t>(index) + 1, "", "n"}));
      error_code ec;
      asio::write(socket, asio::buffer(hello), ec);
      char head[core::kFrameHeaderSize];
      if (!ec) asio::read(socket, asio::buffer(head), ec);
      if (!ec) {
        auto header = core::decode_header(head);
        std::string body(header.body_length, '\0');
        asio::read(socket, asio::buffer(body), ec);
        if (!ec && header.type != core::FrameType::hello_reply) ec = asio::error::connection_refused;
      }
      return ec;
    };
    auto socket = open_socket(io_, name(), primary_.host, primary_.port, greet);
    if (!socket) return nullptr;
    return std::make_unique<StreamConnection<Wire>>(std::move(*socket), Wire(layout_version_));
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
