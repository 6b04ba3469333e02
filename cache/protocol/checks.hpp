// What client and server both check, and the wire's error codes turned back into a Status.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "fourinone/error.hpp"

namespace fourinone::cache::proto {

// A key: 1..max_key bytes, no spaces or control characters. bad_request or too_large.
Status check_key(std::string_view key, std::size_t max_key);
// A value: at most max_value bytes. too_large.
Status check_value(std::string_view value, std::size_t max_value);
// A code and message from the wire; a code this version does not know is internal.
Status status_of(std::uint8_t code, const std::string& message);
// A replication or sync call's outcome: the transport's error, a body that does not decode,
// or the answer's own code. `what` names the call in a decode error.
Status answer_status(const Result<std::string>& body, const char* what);

}  // namespace fourinone::cache::proto
