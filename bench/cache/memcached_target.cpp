// memcached for cache_bench: get and set over the text protocol, pipelined, on the caller's
// io_context.
//
// DESIGN: stream_connection.hpp's batch, as for Redis; only the encoding and the replies differ:
//   get key\r\n                  -> VALUE key flags bytes\r\n<data>\r\nEND\r\n (hit) | END\r\n
//   set key 0 0 N\r\n<data>\r\n  -> STORED\r\n | NOT_STORED\r\n
// An error reply (ERROR, CLIENT_ERROR, SERVER_ERROR) gives the connection up: after a refused
// set, memcached may read its data as a command, so the replies would no longer line up.
#include <boost/asio/io_context.hpp>

#include <charconv>
#include <optional>
#include <string_view>

#include "stream_connection.hpp"
#include "target.hpp"

namespace cachebench {
namespace {

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
// read first, kMalformed (reply.text says why), or kGiveUp on an error reply (its line in
// reply.text; see the top of the file).
std::ptrdiff_t parse_memcached(std::string_view in, Reply& reply) {
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
    reply.text = line;
    return kGiveUp;
  }
  reply.text = "an unexpected reply line";
  return kMalformed;
}

void append_number(std::string& out, std::size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

// memcached's text protocol for StreamConnection.
struct Memcached {
  static constexpr std::string_view kSurplus = "more replies than commands";

  void append_request(const Op& op, const std::string& value, std::string& out) {
    out += op.is_set ? "set " : "get ";
    out += op.key;
    if (op.is_set) {
      out += " 0 0 ";
      append_number(out, value.size());
      out += "\r\n";
      out += value;
    }
    out += "\r\n";
  }

  std::ptrdiff_t parse_reply(std::string_view in, Reply& reply) { return parse_memcached(in, reply); }
};

}  // namespace

std::unique_ptr<Target> make_memcached_target(boost::asio::io_context& io, const std::string& host,
                                              std::uint16_t port) {
  return std::make_unique<SocketTarget<Memcached>>(io, "memcached", host, port);
}

}  // namespace cachebench
