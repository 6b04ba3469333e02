#include "fourinone/error.hpp"

namespace fourinone {

const char* errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::ok: return "ok";
    case Errc::not_found: return "not_found";
    case Errc::exists: return "exists";
    case Errc::no_permission: return "no_permission";
    case Errc::bad_version: return "bad_version";
    case Errc::too_large: return "too_large";
    case Errc::park_full: return "park_full";
    case Errc::unavailable: return "unavailable";
    case Errc::timeout: return "timeout";
    case Errc::session_expired: return "session_expired";
    case Errc::bad_request: return "bad_request";
    case Errc::unauthenticated: return "unauthenticated";
    case Errc::not_leader: return "not_leader";
    case Errc::cancelled: return "cancelled";
    case Errc::internal: return "internal";
    case Errc::config_error: return "config_error";
    case Errc::stale_layout: return "stale_layout";
  }
  return "unknown";
}

Status::Status(Errc code, std::string message) {
  if (code != Errc::ok) rep_ = std::make_shared<const Rep>(Rep{code, std::move(message)});
}

const std::string& Status::message() const noexcept {
  static const std::string empty;
  return rep_ ? rep_->message : empty;
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  std::string s = errc_name(rep_->code);
  if (!rep_->message.empty()) s += ": " + rep_->message;
  return s;
}

}  // namespace fourinone
