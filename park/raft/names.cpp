// Printable names of the Raft enums (logs, test output).
#include "park/raft/progress.hpp"
#include "park/raft/raft.hpp"

namespace fourinone::raft {

const char* message_type_name(MessageType type) noexcept {
  switch (type) {
    case MessageType::pre_vote:
      return "pre_vote";
    case MessageType::pre_vote_response:
      return "pre_vote_response";
    case MessageType::vote:
      return "vote";
    case MessageType::vote_response:
      return "vote_response";
    case MessageType::append:
      return "append";
    case MessageType::append_response:
      return "append_response";
    case MessageType::heartbeat:
      return "heartbeat";
    case MessageType::heartbeat_response:
      return "heartbeat_response";
    case MessageType::install_snapshot:
      return "install_snapshot";
    case MessageType::timeout_now:
      return "timeout_now";
  }
  return "unknown";
}

const char* role_name(Role role) noexcept {
  switch (role) {
    case Role::follower:
      return "follower";
    case Role::pre_candidate:
      return "pre_candidate";
    case Role::candidate:
      return "candidate";
    case Role::leader:
      return "leader";
  }
  return "unknown";
}

const char* progress_state_name(ProgressState state) noexcept {
  switch (state) {
    case ProgressState::probe:
      return "probe";
    case ProgressState::replicate:
      return "replicate";
    case ProgressState::snapshot:
      return "snapshot";
  }
  return "unknown";
}

const char* propose_error_name(ProposeError error) noexcept {
  switch (error) {
    case ProposeError::none:
      return "none";
    case ProposeError::not_leader:
      return "not_leader";
    case ProposeError::transferring:
      return "transferring";
    case ProposeError::too_large:
      return "too_large";
    case ProposeError::change_pending:
      return "change_pending";
    case ProposeError::bad_change:
      return "bad_change";
  }
  return "unknown";
}

}  // namespace fourinone::raft
