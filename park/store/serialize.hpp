// cereal encodings of the park's value types. These are the byte forms on the wire, in the
// log and in snapshots (see park/protocol/WIRE.md); change them only with a version bump.
#pragma once

#include <cereal/cereal.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "core/status_serialize.hpp"
#include "park/store/command.hpp"

namespace fourinone {

template <class Archive>
void serialize(Archive& ar, Node& n) {
  ar(n.domain, n.name, n.value, n.version, n.create_revision, n.mod_revision, n.creator, n.create_host,
     n.update_host, n.created_ms, n.updated_ms, n.policy, n.session, n.expires_ms);
}

template <class Archive>
void serialize(Archive& ar, WatchEvent& e) {
  ar(e.type, e.revision, e.node);
}

namespace park {

template <class Archive>
void serialize(Archive& ar, Op& o) {
  ar(o.kind, o.domain, o.node, o.value, o.version, o.policy, o.heartbeat, o.ttl_ms);
}

template <class Archive>
void serialize(Archive& ar, NodeRef& r) {
  ar(r.domain, r.node, r.create_revision);
}

// The queue body travels only in commands of kind mq, so every other command has the bytes it
// had before the message queue existed: logs written by older builds still decode.
template <class Archive>
void save(Archive& ar, const Command& c) {
  ar(c.kind, c.caller, c.host, c.client_id, c.seq, c.acked_below, c.now_ms, c.ops, c.session,
     c.session_timeout_ms, c.targets);
  if (c.kind == CommandKind::mq) ar(c.mq.value_or(MqCommand{}));
}

template <class Archive>
void load(Archive& ar, Command& c) {
  ar(c.kind, c.caller, c.host, c.client_id, c.seq, c.acked_below, c.now_ms, c.ops, c.session,
     c.session_timeout_ms, c.targets);
  if (c.kind == CommandKind::mq) ar(c.mq.emplace());
}

template <class Archive>
void serialize(Archive& ar, OpResult& r) {
  ar(r.node, r.removed);
}

template <class Archive>
void serialize(Archive& ar, ApplyResult& r) {
  std::uint64_t failed = r.failed_op;
  ar(r.status, failed, r.results, r.revision, r.session, r.events, r.mq);
  r.failed_op = static_cast<std::size_t>(failed);
}

template <class Archive>
void serialize(Archive& ar, SessionRecord& s) {
  ar(s.id, s.owner, s.timeout_ms, s.opened_ms);
}

}  // namespace park
}  // namespace fourinone
