#include "park/server/exposure.hpp"

namespace fourinone::park {

std::optional<std::string> exposure_warning(const Config& config, const ServerAddress& self) {
  const std::string& host = self.host;
  if (host == "localhost" || host.starts_with("127.") || host == "::1") return std::nullopt;
  const auto& park = config.park;
  if (park.users.empty()) {
    return config.file + ": " + self.to_string() +
           " listens beyond loopback with no USERS in PARK: anyone who reaches it can read and change every "
           "node. Add users (fourinone passwd) and a GROUPKEY; see README, \"Running a group\"";
  }
  if (park.servers.size() > 1 && park.group_key.empty()) {
    return config.file + ": no GROUPKEY in PARK: any connection may speak for a park server";
  }
  return std::nullopt;
}

}  // namespace fourinone::park
