#include "fourinone/park.hpp"

namespace fourinone {

Txn& Txn::check(std::string_view domain, std::string_view node, std::int64_t version) {
  ops_.push_back(Op{Kind::check, std::string(domain), std::string(node), {}, version, {}});
  return *this;
}

Txn& Txn::create(std::string_view domain, std::string_view node, std::string_view value, CreateOptions options) {
  ops_.push_back(Op{Kind::create, std::string(domain), std::string(node), std::string(value), kAnyVersion, options});
  return *this;
}

Txn& Txn::create_sequential(std::string_view domain, std::string_view value, CreateOptions options) {
  ops_.push_back(Op{Kind::create_sequential, std::string(domain), {}, std::string(value), kAnyVersion, options});
  return *this;
}

Txn& Txn::update(std::string_view domain, std::string_view node, std::string_view value,
                 std::int64_t expected_version) {
  ops_.push_back(Op{Kind::update, std::string(domain), std::string(node), std::string(value), expected_version, {}});
  return *this;
}

Txn& Txn::remove(std::string_view domain, std::string_view node, std::int64_t expected_version) {
  ops_.push_back(Op{Kind::remove, std::string(domain), std::string(node), {}, expected_version, {}});
  return *this;
}

const char* session_state_name(SessionState state) noexcept {
  switch (state) {
    case SessionState::none: return "none";
    case SessionState::connected: return "connected";
    case SessionState::suspended: return "suspended";
    case SessionState::expired: return "expired";
    case SessionState::closed: return "closed";
  }
  return "unknown";
}

}  // namespace fourinone
