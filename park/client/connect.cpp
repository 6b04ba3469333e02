// Park::connect and ParkOptions::from_config: the public entry points of the park client.
#include <cstdlib>

#include "park/client/park_client.hpp"

namespace fourinone {

Result<std::unique_ptr<Park>> Park::connect(const ParkOptions& options) {
  auto client = std::make_unique<park::ParkClient>(options);
  if (Status s = client->connect_first(); !s.ok()) return s;
  return std::unique_ptr<Park>(std::move(client));
}

Result<std::unique_ptr<Park>> Park::connect(const Config& config) { return connect(ParkOptions::from_config(config)); }

ParkOptions ParkOptions::from_config(const Config& config) {
  ParkOptions o;
  o.servers = config.park.servers;
  o.session_timeout = config.park.session_timeout;
  o.heartbeat = config.park.heartbeat;
  o.max_value = config.park.max_value;
  o.tls = config.park.tls;
  if (const char* user = std::getenv("FOURINONE_USER")) o.user = user;
  if (const char* password = std::getenv("FOURINONE_PASSWORD")) o.password = password;
  return o;
}

}  // namespace fourinone
