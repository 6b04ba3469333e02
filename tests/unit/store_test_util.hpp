// Helpers for the Store tests: building ops and commands, and comparing results.
#pragma once

#include <doctest/doctest.h>

#include <cereal/archives/portable_binary.hpp>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "park/store/serialize.hpp"
#include "park/store/store.hpp"

namespace store_test {

using fourinone::kAnyVersion;
using fourinone::Policy;
using fourinone::park::Command;
using fourinone::park::CommandKind;
using fourinone::park::Op;
using fourinone::park::OpKind;

inline Op create_op(std::string domain, std::string node, std::string value, Policy policy = Policy::all,
                    bool heartbeat = false, std::int64_t ttl_ms = 0) {
  Op op;
  op.kind = OpKind::create;
  op.domain = std::move(domain);
  op.node = std::move(node);
  op.value = std::move(value);
  op.policy = policy;
  op.heartbeat = heartbeat;
  op.ttl_ms = ttl_ms;
  return op;
}

inline Op sequential_op(std::string domain, std::string value, Policy policy = Policy::all) {
  Op op = create_op(std::move(domain), "", std::move(value), policy);
  op.kind = OpKind::create_sequential;
  return op;
}

inline Op update_op(std::string domain, std::string node, std::string value, std::int64_t version = kAnyVersion) {
  Op op;
  op.kind = OpKind::update;
  op.domain = std::move(domain);
  op.node = std::move(node);
  op.value = std::move(value);
  op.version = version;
  return op;
}

inline Op remove_op(std::string domain, std::string node, std::int64_t version = kAnyVersion) {
  Op op;
  op.kind = OpKind::remove;
  op.domain = std::move(domain);
  op.node = std::move(node);
  op.version = version;
  return op;
}

inline Op check_op(std::string domain, std::string node, std::int64_t version) {
  Op op;
  op.kind = OpKind::check;
  op.domain = std::move(domain);
  op.node = std::move(node);
  op.version = version;
  return op;
}

inline Op remove_domain_op(std::string domain) {
  Op op;
  op.kind = OpKind::remove_domain;
  op.domain = std::move(domain);
  return op;
}

inline Op set_deletable_op(std::string domain) {
  Op op;
  op.kind = OpKind::set_deletable;
  op.domain = std::move(domain);
  return op;
}

inline Command txn(std::vector<Op> ops, std::string caller = "alice", std::int64_t now_ms = 1000,
                   std::uint64_t session = 0) {
  Command c;
  c.kind = CommandKind::txn;
  c.caller = std::move(caller);
  c.host = "10.0.0.1";
  c.now_ms = now_ms;
  c.ops = std::move(ops);
  c.session = session;
  return c;
}

inline Command session_command(CommandKind kind, std::string caller, std::uint64_t session = 0,
                               std::int64_t timeout_ms = 5000) {
  Command c;
  c.kind = kind;
  c.caller = std::move(caller);
  c.host = "10.0.0.1";
  c.now_ms = 1000;
  c.session = session;
  c.session_timeout_ms = timeout_ms;
  return c;
}

// The portable-binary bytes of a value (serialize.hpp): a byte-exact comparison.
template <class T>
std::string encode(const T& value) {
  std::ostringstream out;
  {
    cereal::PortableBinaryOutputArchive ar(out);
    ar(const_cast<T&>(value));
  }
  return std::move(out).str();
}

inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
inline constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();

inline std::string code(const fourinone::park::ApplyResult& r) { return fourinone::errc_name(r.status.code()); }
inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

inline Command noop() {
  Command c;
  c.kind = CommandKind::noop;
  return c;
}

// Applies `c`, which `s` must accept.
inline fourinone::park::ApplyResult ok(fourinone::park::Store& s, const Command& c) {
  fourinone::park::ApplyResult r = s.apply(c);
  INFO("status: " << r.status.to_string());
  REQUIRE(r.status.ok());
  return r;
}

// Applies `c`, which `s` must refuse, and checks that nothing changed: the answer carries no
// results or events, the revision stays, and save() is byte for byte the save() of a twin
// that applied a noop instead (apply() counts every command, so a plain before/after compare
// of save() would differ in that counter alone).
inline fourinone::park::ApplyResult refused(fourinone::park::Store& s, const Command& c,
                                            fourinone::park::StoreLimits limits = {}) {
  auto twin = fourinone::park::Store::load(s.save(), limits);
  REQUIRE(twin.ok());
  const std::uint64_t revision = s.revision();
  fourinone::park::ApplyResult r = s.apply(c);
  CHECK_FALSE(r.status.ok());
  CHECK(r.results.empty());
  CHECK(r.events.empty());
  CHECK(r.revision == revision);
  CHECK(s.revision() == revision);
  (void)twin->apply(noop());
  CHECK((s.save() == twin->save()));
  return r;
}

inline std::uint64_t open(fourinone::park::Store& s, const std::string& caller, std::int64_t timeout_ms = 5000) {
  fourinone::park::ApplyResult r = ok(s, session_command(CommandKind::open_session, caller, 0, timeout_ms));
  CHECK(r.session != 0);
  return r.session;
}

inline Op heartbeat_op(std::string domain, std::string node, std::string value = "hb") {
  return create_op(std::move(domain), std::move(node), std::move(value), Policy::all, true);
}

inline Op ttl_op(std::string domain, std::string node, std::int64_t ttl_ms) {
  return create_op(std::move(domain), std::move(node), "t", Policy::all, false, ttl_ms);
}

inline Command with_client(Command c, std::uint64_t client, std::uint64_t seq, std::uint64_t acked_below = 0) {
  c.client_id = client;
  c.seq = seq;
  c.acked_below = acked_below;
  return c;
}

inline Command expire_nodes(std::vector<fourinone::park::NodeRef> targets) {
  Command c;
  c.kind = CommandKind::expire_nodes;
  c.now_ms = 5000;
  c.targets = std::move(targets);
  return c;
}

}  // namespace store_test
