// WorkerInfo's text form, the value of a worker's park node (include/fourinone/worker.hpp).
//
// Plain "key=value" lines, so that reading the node with the CLI shows the worker plainly:
//   type=wordcount
//   address=host:2088
//   capacity=4
//   load=1
//   service=0
//   pid=12345
// since_revision is not in the text: it is the node's create_revision, which the reader fills
// in. decode() takes the lines in any order and skips keys it does not know, so a newer worker
// may advertise more without breaking older contractors.
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "fourinone/worker.hpp"

namespace fourinone {
namespace {

constexpr std::string_view kDomainPrefix = "fourinone.workers.";

// The whole text as a T, or nothing (no sign, no spaces, nothing out of range).
template <class T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Status bad_line(std::size_t number, std::string_view line, const std::string& why) {
  return Status(Errc::bad_request,
                "worker info line " + std::to_string(number) + " '" + std::string(line) + "' does not parse: " + why);
}

}  // namespace

std::string worker_domain(std::string_view type) { return std::string(kDomainPrefix) + std::string(type); }

std::string WorkerInfo::encode() const {
  return "type=" + type + "\naddress=" + address.to_string() + "\ncapacity=" + std::to_string(capacity) +
         "\nload=" + std::to_string(load) + "\nservice=" + (service ? "1" : "0") + "\npid=" + std::to_string(pid) +
         "\n";
}

Result<WorkerInfo> WorkerInfo::decode(std::string_view text) {
  WorkerInfo info;
  bool has_type = false, has_address = false, has_capacity = false;
  std::size_t number = 0;
  while (!text.empty()) {
    std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++number;
    if (line.empty()) continue;

    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) return bad_line(number, line, "expected key=value");
    std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "type") {
      if (value.empty()) return bad_line(number, line, "the type is empty");
      info.type = std::string(value);
      has_type = true;
    } else if (key == "address") {
      auto address = parse_server_address(value);
      if (!address.ok()) return bad_line(number, line, address.status().message());
      info.address = std::move(*address);
      has_address = true;
    } else if (key == "capacity") {
      auto n = parse_number<std::uint32_t>(value);
      if (!n || *n == 0) return bad_line(number, line, "not a number from 1 to 4294967295");
      info.capacity = *n;
      has_capacity = true;
    } else if (key == "load") {
      auto n = parse_number<std::uint32_t>(value);
      if (!n) return bad_line(number, line, "not a number from 0 to 4294967295");
      info.load = *n;
    } else if (key == "service") {
      if (value != "0" && value != "1") return bad_line(number, line, "expected 0 or 1");
      info.service = value == "1";
    } else if (key == "pid") {
      auto n = parse_number<std::int64_t>(value);
      if (!n) return bad_line(number, line, "not a number");
      info.pid = *n;
    }
  }
  for (auto [present, key] : {std::pair{has_type, "type"}, {has_address, "address"}, {has_capacity, "capacity"}}) {
    if (!present) return Status(Errc::bad_request, std::string("worker info has no '") + key + "' line");
  }
  return info;
}

}  // namespace fourinone
