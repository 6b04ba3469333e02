// Redis for cache_bench: GET and SET over RESP, pipelined, on the caller's io_context.
//
// DESIGN: stream_connection.hpp's batch, whose one write is of RESP arrays (the encoding
// redis-benchmark sends).
#include <boost/asio/io_context.hpp>

#include <charconv>
#include <string_view>

#include "stream_connection.hpp"
#include "target.hpp"

namespace cachebench {
namespace {

// A header line longer than this without its CRLF is not a reply of ours.
constexpr std::size_t kMaxLine = 64 * 1024;

// Parses the reply at the start of `in`: the bytes it takes, kIncomplete when more must be
// read first, or kMalformed (reply.text says why). "+..." and ":..." are ok (SET answers
// "+OK"), "$N" bulk strings are a GET's hit and "$-1" its miss, "-..." an error.
std::ptrdiff_t parse_resp(std::string_view in, Reply& reply) {
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
      // Redis answers every command, so the stream stays in step after an error reply.
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

// RESP for StreamConnection.
struct Resp {
  static constexpr std::string_view kSurplus = "more replies than commands";

  void append_request(const Op& op, const std::string& value, std::string& out) {
    out += op.is_set ? "*3\r\n$3\r\nSET\r\n" : "*2\r\n$3\r\nGET\r\n";
    append_bulk(out, op.key);
    if (op.is_set) append_bulk(out, value);
  }

  std::ptrdiff_t parse_reply(std::string_view in, Reply& reply) { return parse_resp(in, reply); }
};

}  // namespace

std::unique_ptr<Target> make_redis_target(boost::asio::io_context& io, const std::string& host, std::uint16_t port) {
  return std::make_unique<SocketTarget<Resp>>(io, "redis", host, port);
}

}  // namespace cachebench
