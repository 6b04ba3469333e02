#include "worker/worker_config.hpp"

#include <cstdlib>

#include "fourinone/worker.hpp"

namespace fourinone::detail {
namespace {

const std::string* element(const Config& config, const std::string& name) {
  return config_element(config, "WORKER", name);
}

Status bad(const Config& config, const std::string& name, const std::string& why) {
  return config_element_error(config, "WORKER", name, why);
}

}  // namespace

Result<std::chrono::milliseconds> worker_timeout(const Config& config) {
  const std::string* text = element(config, "TIMEOUT");
  const std::string* desc = element(config, "TIMEOUT@DESC");
  if (text == nullptr || desc == nullptr) return std::chrono::milliseconds(0);
  const auto on = parse_config_bool(*desc);
  if (!on) return bad(config, "TIMEOUT", "its DESC must be TRUE (on) or FALSE (off)");
  if (!*on) return std::chrono::milliseconds(0);
  char* end = nullptr;
  double hours = std::strtod(text->c_str(), &end);
  if (end == text->c_str() || *end != '\0' || !(hours > 0) || hours > 24 * 365) {
    return bad(config, "TIMEOUT", "expected a number of hours above 0");
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(hours * 3600.0 * 1000.0));
}

Result<ServerAddress> default_worker_address(const Config& config) {
  const std::string* text = element(config, "SERVERS");
  if (text == nullptr || text->empty()) return ServerAddress{"localhost", 2088};
  const std::string first = text->substr(0, text->find(','));
  auto address = parse_server_address(first);
  if (!address.ok()) return bad(config, "SERVERS", address.status().message());
  return address;
}

}  // namespace fourinone::detail

namespace fourinone {

Result<WorkerOptions> WorkerOptions::from_config(const Config& config) {
  WorkerOptions options;
  if (const std::string* service = detail::element(config, "SERVICE")) {
    const auto on = parse_config_bool(*service);
    if (!on) return detail::bad(config, "SERVICE", "expected true or false");
    options.service = *on;
  }
  if (const std::string* capacity = detail::element(config, "CAPACITY")) {
    char* end = nullptr;
    long n = std::strtol(capacity->c_str(), &end, 10);
    if (end == capacity->c_str() || *end != '\0' || n < 1 || n > 1024) {
      return detail::bad(config, "CAPACITY", "expected a whole number from 1 to 1024");
    }
    options.capacity = static_cast<std::uint32_t>(n);
  }
  if (const std::string* http = detail::element(config, "HTTP")) {
    auto address = parse_server_address(*http);
    if (!address.ok()) return detail::bad(config, "HTTP", "expected HOST:PORT (port 1..65535)");
    options.http = address.value();
  }
  return options;
}

}  // namespace fourinone
