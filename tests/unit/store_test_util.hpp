// Helpers for the Store tests: building ops and commands, and comparing results.
#pragma once

#include <cereal/archives/portable_binary.hpp>
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

}  // namespace store_test
