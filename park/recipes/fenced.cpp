// fenced_update / fenced_read (lock.hpp): a park node that refuses writes from stale lock
// holders, by compare-and-set on the node's version.
#include <charconv>

#include "fourinone/lock.hpp"

namespace fourinone {
namespace {

Result<FencedValue> decode(Node node) {
  const std::string& v = node.value;
  auto space = v.find(' ');
  FencedValue out;
  auto [end, ec] = std::from_chars(v.data(), v.data() + (space == std::string::npos ? v.size() : space), out.token);
  if (space == std::string::npos || ec != std::errc() || end != v.data() + space) {
    return Status(Errc::bad_request, node.domain + "/" + node.name + " is not a fenced value (\"<token> <payload>\")");
  }
  out.payload = v.substr(space + 1);
  out.node = std::move(node);
  return out;
}

std::string encode(std::uint64_t token, std::string_view payload) {
  std::string v = std::to_string(token);
  v += ' ';
  v += payload;
  return v;
}

}  // namespace

Result<FencedValue> fenced_read(Park& park, std::string_view domain, std::string_view node) {
  auto n = park.get(domain, node);
  if (!n.ok()) return n.status();
  return decode(std::move(n).value());
}

Result<FencedValue> fenced_update(Park& park, std::string_view domain, std::string_view node, std::uint64_t token,
                                  const std::function<std::string(std::string_view payload)>& change) {
  // Each pass reads, checks the token and writes only if nobody wrote in between; a lost race
  // reads again, so a newer token that landed meanwhile is seen and refuses us.
  for (;;) {
    auto current = fenced_read(park, domain, node);
    if (!current.ok() && current.status().code() != Errc::not_found) return current.status();
    if (!current.ok()) {
      auto created = park.create(domain, node, encode(token, change("")));
      if (created.ok()) return decode(std::move(created).value());
      if (created.status().code() == Errc::exists) continue;
      return created.status();
    }
    if (token < current->token) {
      return Status(Errc::bad_version, "fenced: token " + std::to_string(token) + " is older than token " +
                                           std::to_string(current->token) + " that already wrote " +
                                           std::string(domain) + "/" + std::string(node));
    }
    auto written = park.update(domain, node, encode(token, change(current->payload)),
                               static_cast<std::int64_t>(current->node.version));
    if (written.ok()) return decode(std::move(written).value());
    if (written.status().code() == Errc::bad_version || written.status().code() == Errc::not_found) continue;
    return written.status();
  }
}

}  // namespace fourinone
