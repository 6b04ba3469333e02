// Whether a park server is open to strangers: listening beyond loopback with no logins (anyone
// who reaches it may change every node), or a group with logins but no group key (any
// connection may speak for a server). Pure, so tests need not listen beyond 127.0.0.1.
#pragma once

#include <optional>
#include <string>

#include "fourinone/config.hpp"

namespace fourinone::park {

// The warning to print at start, or nothing.
std::optional<std::string> exposure_warning(const Config& config, const ServerAddress& self);

}  // namespace fourinone::park
