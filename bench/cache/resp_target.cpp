// Redis for cache_bench: GET and SET over RESP, pipelined, on the caller's io_context.
//
// DESIGN: stream_connection.hpp's batch, whose one write is of RESP arrays (the encoding
// redis-benchmark sends); resp.hpp writes and parses them.
#include <boost/asio/io_context.hpp>

#include <string_view>

#include "resp.hpp"
#include "stream_connection.hpp"
#include "target.hpp"

namespace cachebench {
namespace {

// RESP for StreamConnection.
struct Resp {
  static constexpr std::string_view kSurplus = "more replies than commands";

  void append_request(const Op& op, const std::string& value, std::string& out) {
    out += op.is_set ? "*3\r\n$3\r\nSET\r\n" : "*2\r\n$3\r\nGET\r\n";
    resp::append_bulk(out, op.key);
    if (op.is_set) resp::append_bulk(out, value);
  }

  std::ptrdiff_t parse_reply(std::string_view in, Reply& reply) { return resp::parse(in, reply); }
};

}  // namespace

std::unique_ptr<Target> make_redis_target(boost::asio::io_context& io, const std::string& host, std::uint16_t port) {
  return std::make_unique<SocketTarget<Resp>>(io, "redis", host, port);
}

}  // namespace cachebench
