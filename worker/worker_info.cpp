// WorkerInfo as a registry instance (include/fourinone/worker.hpp).
//
// The instance's id and address are the worker's host:port; its metadata holds the rest as
// text, so that `fourinone ctl services workers.<type>` shows a worker plainly:
//   type=wordcount capacity=4 load=1 service=0 pid=12345
// since_revision is not in the metadata: it is the node's create_revision, which from_node
// fills in. Unknown keys are skipped, so a newer worker may advertise more without breaking
// older contractors.
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "fourinone/worker.hpp"

namespace fourinone {
namespace {

// The whole text as a T, or nothing (no sign, no spaces, nothing out of range).
template <class T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Status bad_entry(std::string_view key, std::string_view value, const std::string& why) {
  return Status(Errc::bad_request,
                "worker metadata '" + std::string(key) + "=" + std::string(value) + "' does not parse: " + why);
}

}  // namespace

std::string worker_service(std::string_view type) { return "workers." + std::string(type); }

std::string worker_domain(std::string_view type) { return ServiceRegistry::domain_of(worker_service(type)); }

std::map<std::string, std::string> WorkerInfo::metadata() const {
  return {{"type", type},
          {"capacity", std::to_string(capacity)},
          {"load", std::to_string(load)},
          {"service", service ? "1" : "0"},
          {"pid", std::to_string(pid)}};
}

Result<WorkerInfo> WorkerInfo::from_instance(const Instance& instance) {
  WorkerInfo info;
  if (instance.address.empty()) return Status(Errc::bad_request, "worker '" + instance.id + "' has no address");
  auto address = parse_server_address(instance.address);
  if (!address.ok()) {
    return Status(Errc::bad_request, "worker address '" + instance.address + "' does not parse: " +
                                         address.status().message());
  }
  info.address = std::move(*address);

  const auto& m = instance.metadata;
  for (const char* key : {"type", "capacity"}) {
    if (m.count(key) == 0) return Status(Errc::bad_request, std::string("worker metadata has no '") + key + "'");
  }
  for (const auto& [key, value] : m) {
    if (key == "type") {
      if (value.empty()) return bad_entry(key, value, "the type is empty");
      info.type = value;
    } else if (key == "capacity") {
      auto n = parse_number<std::uint32_t>(value);
      if (!n || *n == 0) return bad_entry(key, value, "not a number from 1 to 4294967295");
      info.capacity = *n;
    } else if (key == "load") {
      auto n = parse_number<std::uint32_t>(value);
      if (!n) return bad_entry(key, value, "not a number from 0 to 4294967295");
      info.load = *n;
    } else if (key == "service") {
      if (value != "0" && value != "1") return bad_entry(key, value, "expected 0 or 1");
      info.service = value == "1";
    } else if (key == "pid") {
      auto n = parse_number<std::int64_t>(value);
      if (!n) return bad_entry(key, value, "not a number");
      info.pid = *n;
    }
  }
  return info;
}

Result<WorkerInfo> WorkerInfo::from_node(const Node& node) {
  auto info = from_instance(ServiceRegistry::instance_of(node));
  if (info.ok()) info->since_revision = node.create_revision;
  return info;
}

}  // namespace fourinone
