// Store::apply: the rules of every command (see store.hpp and park/README.md), and the reads.
//
// A transaction runs its ops directly on the state, in order, so later ops see earlier ones;
// each change also goes into an undo journal. If an op fails, the journal is replayed backwards
// (every primitive has an exact inverse, see state.hpp) and the creation counter is restored,
// so a failed transaction leaves the state — and save() — exactly as it was. This costs
// O(changes made), never a copy of the store.
#include <cinttypes>
#include <cstdio>
#include <exception>
#include <limits>
#include <utility>

#include "park/store/state.hpp"
#include "park/store/store.hpp"

namespace fourinone::park {
namespace {

using detail::DomainMeta;
using detail::Entry;
using detail::NodeKey;
using detail::State;

// A name as it may be shown in a message: printable, at most 64 bytes, quoted.
std::string quote(std::string_view s) {
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < 64; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > 64) out += "...";
  return out + "'";
}

std::string path(std::string_view domain, std::string_view node) {
  std::string out(domain);
  out += '/';
  out += node;
  return out;
}

bool valid_policy(Policy p) { return p == Policy::read || p == Policy::read_write || p == Policy::all; }

// Policies are bit masks: read = 1, read_write = 3, all = 7.
bool includes(Policy policy, Policy wanted) {
  auto w = static_cast<unsigned>(wanted);
  return (static_cast<unsigned>(policy) & w) == w;
}

bool may_update(const Node& n, const std::string& caller) {
  return caller == n.creator || includes(n.policy, Policy::read_write);
}

bool may_delete(const Node& n, const std::string& caller) { return caller == n.creator || n.policy == Policy::all; }

std::string u64(std::uint64_t v) { return std::to_string(v); }

// The sequential name of the k-th (from 0) sequential create of the command that will get
// `revision`: "%020llu" for the first, "%020llu-%010llu" for the others. Both sort in creation
// order: a name is a prefix of its followers in the same command, and the next revision's
// digits are greater.
std::string sequential_name(std::uint64_t revision, std::uint64_t k) {
  char buf[48];
  if (k == 0) {
    std::snprintf(buf, sizeof buf, "%020" PRIu64, revision);
  } else {
    std::snprintf(buf, sizeof buf, "%020" PRIu64 "-%010" PRIu64, revision, k);
  }
  return buf;
}

ApplyResult apply_once(State& s, const Command& c);  // below: Executor hands off through it

// Applies one command to the state. Changes carry revision `rev_` (= revision + 1), which
// becomes the store's revision at the end only if some node changed.
class Executor {
 public:
  Executor(State& s, const Command& c) : s_(s), c_(c), rev_(s.revision + 1) {}

  ApplyResult run() {
    switch (c_.kind) {
      case CommandKind::txn: return run_txn();
      case CommandKind::open_session: return open_session();
      case CommandKind::close_session: return end_session(true);
      case CommandKind::expire_session: return end_session(false);
      case CommandKind::expire_nodes: return expire_nodes();
      case CommandKind::noop: return finish({});
      case CommandKind::mq: return run_mq();
    }
    return fail(Status(Errc::bad_request, "unknown command kind " + u64(static_cast<unsigned>(c_.kind))));
  }

 private:
  struct Undo {
    enum class Kind : std::uint8_t { inserted, erased, replaced, meta };
    Kind kind = Kind::meta;
    std::string domain;
    std::string name;                // inserted
    Node node;                       // erased / replaced: the node before
    std::uint64_t order = 0;         // erased
    std::optional<DomainMeta> meta;  // the domain before the change; none if it did not exist
  };

  ApplyResult fail(Status status, std::size_t failed_op = std::numeric_limits<std::size_t>::max()) {
    ApplyResult r;
    r.status = std::move(status);
    r.failed_op = failed_op;
    r.revision = s_.revision;
    return r;
  }

  ApplyResult finish(std::vector<OpResult> results) {
    if (changed_) s_.revision = rev_;
    ApplyResult r;
    r.results = std::move(results);
    r.revision = s_.revision;
    r.events = std::move(events_);
    return r;
  }

  void emit(WatchEvent::Type type, const Node& n) {
    events_.push_back(WatchEvent{type, rev_, n});
    changed_ = true;
  }

  Node remove_node(std::string_view domain, std::string_view name) {
    std::optional<DomainMeta> meta;
    if (journaling_) meta = s_.domain_meta(domain);
    Entry e = s_.erase_node(domain, name, rev_);
    emit(WatchEvent::Type::deleted, e.node);
    if (journaling_) journal_.push_back(Undo{Undo::Kind::erased, e.node.domain, {}, e.node, e.order, std::move(meta)});
    return std::move(e.node);
  }

  void rollback() {
    for (auto it = journal_.rbegin(); it != journal_.rend(); ++it) {
      Undo& u = *it;
      switch (u.kind) {
        case Undo::Kind::inserted: (void)s_.erase_node(u.domain, u.name, 0); break;
        case Undo::Kind::erased:
          if (!u.meta) detail::panic("undo of an erase in %s without its domain", u.domain.c_str());
          s_.insert_node(std::move(u.node), u.order, *u.meta, 0);
          break;
        case Undo::Kind::replaced: (void)s_.replace_node(std::move(u.node), 0); break;
        case Undo::Kind::meta: break;
      }
      if (u.meta) {
        s_.set_meta(u.domain, *u.meta);
      } else if (s_.find_domain(u.domain)) {
        detail::panic("undo left domain %s behind", u.domain.c_str());
      }
    }
    journal_.clear();
    events_.clear();
    changed_ = false;
    s_.next_order = saved_next_order_;
  }

  // --- transactions ------------------------------------------------------------------------

  ApplyResult run_txn() {
    journaling_ = true;
    saved_next_order_ = s_.next_order;
    std::vector<OpResult> results;
    results.reserve(c_.ops.size());
    for (std::size_t i = 0; i < c_.ops.size(); ++i) {
      OpResult r;
      Status st = run_op(c_.ops[i], r);
      if (!st.ok()) {
        rollback();
        return fail(Status(st.code(), "op " + u64(i) + ": " + st.message()), i);
      }
      results.push_back(std::move(r));
    }
    return finish(std::move(results));
  }

  Status run_op(const Op& op, OpResult& out) {
    switch (op.kind) {
      case OpKind::check: return op_check(op, out);
      case OpKind::create: return op_create(op, out, false);
      case OpKind::create_sequential: return op_create(op, out, true);
      case OpKind::update: return op_update(op, out);
      case OpKind::remove: return op_remove(op, out);
      case OpKind::remove_domain: return op_remove_domain(op, out);
      case OpKind::set_deletable: return op_set_deletable(op);
    }
    return Status(Errc::bad_request, "unknown op kind " + u64(static_cast<unsigned>(op.kind)));
  }

  Status check_names(const Op& op, bool with_node) const {
    if (auto why = check_name(op.domain, s_.limits.max_name); !why.empty()) {
      return Status(Errc::bad_request, "bad domain name " + quote(op.domain) + ": " + why);
    }
    if (with_node) {
      if (auto why = check_name(op.node, s_.limits.max_name); !why.empty()) {
        return Status(Errc::bad_request, "bad node name " + quote(op.node) + ": " + why);
      }
    }
    return {};
  }

  static Status check_version_arg(const Op& op) {
    if (op.version < kAnyVersion) return Status(Errc::bad_request, "bad expected version " + std::to_string(op.version));
    return {};
  }

  Status check_value(const Op& op) const {
    if (op.value.size() > s_.limits.max_value) {
      return Status(Errc::too_large, "value of " + u64(op.value.size()) + " bytes is above the limit of " +
                                         u64(s_.limits.max_value));
    }
    return {};
  }

  static Status check_expected(const Op& op, const Node& n) {
    if (op.version != kAnyVersion && static_cast<std::uint64_t>(op.version) != n.version) {
      return Status(Errc::bad_version, path(n.domain, n.name) + " has version " + u64(n.version) + ", expected " +
                                           std::to_string(op.version));
    }
    return {};
  }

  static Status not_found(const Op& op) { return Status(Errc::not_found, path(op.domain, op.node) + " does not exist"); }

  Status denied(const char* action, const Node& n) const {
    return Status(Errc::no_permission, quote(c_.caller) + " may not " + action + " " + path(n.domain, n.name) +
                                           " (creator " + quote(n.creator) + ", policy " + policy_name(n.policy) + ")");
  }

  Status op_check(const Op& op, OpResult& out) {
    if (Status s = check_names(op, true); !s.ok()) return s;
    if (Status s = check_version_arg(op); !s.ok()) return s;
    const Entry* e = s_.find_entry(op.domain, op.node);
    if (op.version == 0) {
      if (e) return Status(Errc::exists, path(op.domain, op.node) + " exists (version " + u64(e->node.version) + ")");
      out.node.domain = op.domain;
      out.node.name = op.node;
      return {};
    }
    if (!e) return not_found(op);
    if (Status s = check_expected(op, e->node); !s.ok()) return s;
    out.node = e->node;
    return {};
  }

  Status op_create(const Op& op, OpResult& out, bool sequential) {
    if (Status s = check_names(op, !sequential); !s.ok()) return s;
    if (Status s = check_value(op); !s.ok()) return s;
    if (op.ttl_ms < 0) return Status(Errc::bad_request, "negative TTL " + std::to_string(op.ttl_ms) + " ms");
    if (!valid_policy(op.policy)) {
      return Status(Errc::bad_request, "unknown policy " + u64(static_cast<unsigned>(op.policy)));
    }
    if (op.heartbeat) {
      auto it = s_.sessions.find(c_.session);
      if (it == s_.sessions.end()) {
        return Status(Errc::session_expired, "session " + u64(c_.session) + " does not exist");
      }
      if (it->second.owner != c_.caller) {
        return Status(Errc::no_permission, "session " + u64(c_.session) + " belongs to " + quote(it->second.owner));
      }
    }
    std::string name = sequential ? sequential_name(rev_, sequential_count_++) : op.node;
    if (s_.find_entry(op.domain, name)) return Status(Errc::exists, path(op.domain, name) + " already exists");

    Node n;
    n.domain = op.domain;
    n.name = std::move(name);
    n.value = op.value;
    n.version = 1;
    n.create_revision = n.mod_revision = rev_;
    n.creator = c_.caller;
    n.create_host = n.update_host = c_.host;
    n.created_ms = n.updated_ms = c_.now_ms;
    n.policy = op.policy;
    n.session = op.heartbeat ? c_.session : 0;
    if (op.ttl_ms > 0) {
      constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
      n.expires_ms = c_.now_ms > kMax - op.ttl_ms ? kMax : c_.now_ms + op.ttl_ms;
    }
    std::optional<DomainMeta> meta = s_.domain_meta(n.domain);
    s_.insert_node(n, s_.next_order++, DomainMeta{c_.caller, false, rev_}, rev_);
    emit(WatchEvent::Type::created, n);
    journal_.push_back(Undo{Undo::Kind::inserted, n.domain, n.name, {}, 0, std::move(meta)});
    out.node = std::move(n);
    return {};
  }

  Status op_update(const Op& op, OpResult& out) {
    if (Status s = check_names(op, true); !s.ok()) return s;
    if (Status s = check_version_arg(op); !s.ok()) return s;
    if (Status s = check_value(op); !s.ok()) return s;
    const Entry* e = s_.find_entry(op.domain, op.node);
    if (!e) return not_found(op);
    if (Status s = check_expected(op, e->node); !s.ok()) return s;
    if (!may_update(e->node, c_.caller)) return denied("update", e->node);
    if (e->node.value == op.value) {  // the same bytes are no change (DESIGN §4.1)
      out.node = e->node;
      return {};
    }
    Node n = e->node;
    n.value = op.value;
    ++n.version;
    n.mod_revision = rev_;
    n.updated_ms = c_.now_ms;
    n.update_host = c_.host;
    std::optional<DomainMeta> meta = s_.domain_meta(n.domain);
    Node old = s_.replace_node(n, rev_);
    emit(WatchEvent::Type::updated, n);
    journal_.push_back(Undo{Undo::Kind::replaced, n.domain, {}, std::move(old), 0, std::move(meta)});
    out.node = std::move(n);
    return {};
  }

  Status op_remove(const Op& op, OpResult& out) {
    if (Status s = check_names(op, true); !s.ok()) return s;
    if (Status s = check_version_arg(op); !s.ok()) return s;
    const Entry* e = s_.find_entry(op.domain, op.node);
    if (!e) return not_found(op);
    if (Status s = check_expected(op, e->node); !s.ok()) return s;
    if (!may_delete(e->node, c_.caller)) return denied("remove", e->node);
    out.node = remove_node(op.domain, op.node);
    return {};
  }

  Status op_remove_domain(const Op& op, OpResult& out) {
    if (Status s = check_names(op, false); !s.ok()) return s;
    const detail::Domain* d = s_.find_domain(op.domain);
    if (!d) return Status(Errc::not_found, "domain " + op.domain + " does not exist");
    bool allowed = d->meta.creator == c_.caller || d->meta.deletable;
    std::vector<std::string> names;
    names.reserve(d->by_order.size());
    for (const auto& [order, entry] : d->by_order) {
      if (!allowed && !may_delete(entry->node, c_.caller)) {
        return Status(Errc::no_permission, quote(c_.caller) + " may not remove domain " + op.domain + " (creator " +
                                               quote(d->meta.creator) + "; " + path(op.domain, entry->node.name) +
                                               " is not deletable by others)");
      }
      names.push_back(entry->node.name);
    }
    for (const auto& name : names) out.removed.push_back(remove_node(op.domain, name));
    return {};
  }

  Status op_set_deletable(const Op& op) {
    if (Status s = check_names(op, false); !s.ok()) return s;
    const detail::Domain* d = s_.find_domain(op.domain);
    if (!d) return Status(Errc::not_found, "domain " + op.domain + " does not exist");
    if (d->meta.creator != c_.caller) {
      return Status(Errc::no_permission,
                    "only the creator " + quote(d->meta.creator) + " of domain " + op.domain + " may make it deletable");
    }
    if (d->meta.deletable) return {};
    DomainMeta meta = d->meta;
    journal_.push_back(Undo{Undo::Kind::meta, op.domain, {}, {}, 0, meta});
    meta.deletable = true;
    s_.set_meta(op.domain, meta);
    return {};
  }

  // --- sessions and leader-made deletions ---------------------------------------------------

  ApplyResult open_session() {
    if (c_.session_timeout_ms <= 0) {
      return fail(Status(Errc::bad_request, "bad session timeout " + std::to_string(c_.session_timeout_ms) + " ms"));
    }
    std::uint64_t id = s_.next_session++;
    s_.sessions.emplace(id, SessionRecord{id, c_.caller, c_.session_timeout_ms, c_.now_ms});
    ApplyResult r = finish({});
    r.session = id;
    return r;
  }

  // close_session (by the owner) or expire_session (by the leader): the session and its
  // heartbeat nodes go, in creation order.
  ApplyResult end_session(bool owner_only) {
    auto it = s_.sessions.find(c_.session);
    if (it == s_.sessions.end()) {
      return fail(Status(Errc::not_found, "session " + u64(c_.session) + " does not exist"));
    }
    if (owner_only && it->second.owner != c_.caller) {
      return fail(Status(Errc::no_permission, "session " + u64(c_.session) + " belongs to " + quote(it->second.owner)));
    }
    s_.sessions.erase(it);
    std::vector<NodeKey> keys;
    if (auto nodes = s_.session_nodes.find(c_.session); nodes != s_.session_nodes.end()) {
      keys.reserve(nodes->second.size());
      for (const auto& [order, key] : nodes->second) keys.push_back(key);
    }
    OpResult out;
    for (const auto& key : keys) out.removed.push_back(remove_node(key.domain, key.name));
    if (s_.session_nodes.count(c_.session)) detail::panic("session %" PRIu64 " still owns nodes", c_.session);
    ApplyResult r = finish({std::move(out)});
    s_.queues.release_session(c_.session, r.mq);  // its consumers' leases come back
    return r;
  }

  ApplyResult run_mq() {
    if (!c_.mq) return fail(Status(Errc::bad_request, "a queue command without its body"));
    ApplyResult r;
    r.status = s_.queues.apply(*c_.mq, c_.now_ms, [this](std::uint64_t id) { return s_.sessions.count(id) == 1; }, r.mq);
    r.revision = s_.revision;
    if (r.status.ok() && c_.mq->kind == MqKind::send) hand_off(r.mq);
    return r;
  }

  // The receivers that rode along with a send: each is applied as that client's own receive
  // command, exactly once, after the append (see MqHandoff).
  void hand_off(MqResult& out) {
    for (const MqHandoff& h : c_.mq->handoffs) {
      Command receive;
      receive.kind = CommandKind::mq;
      receive.caller = c_.caller;
      receive.client_id = h.client_id;
      receive.seq = h.seq;
      receive.acked_below = h.acked_below;
      receive.now_ms = c_.now_ms;
      receive.mq.emplace();
      receive.mq->kind = MqKind::receive;
      receive.mq->channel = c_.mq->channel;
      receive.mq->topic = c_.mq->topic;
      receive.mq->subscriber = h.subscriber;
      receive.mq->max = h.max;
      receive.mq->session = h.session;
      ApplyResult got = apply_once(s_, receive);
      out.handoffs.push_back(MqHandoffResult{h.client_id, h.seq, static_cast<std::uint8_t>(got.status.code()),
                                             got.status.message(), std::move(got.mq.delivered)});
      out.woken.insert(out.woken.end(), got.mq.woken.begin(), got.mq.woken.end());
    }
  }

  ApplyResult expire_nodes() {
    OpResult out;
    for (const NodeRef& t : c_.targets) {
      const Entry* e = s_.find_entry(t.domain, t.node);
      if (e && e->node.create_revision == t.create_revision) out.removed.push_back(remove_node(t.domain, t.node));
    }
    return finish({std::move(out)});
  }

  State& s_;
  const Command& c_;
  const std::uint64_t rev_;
  bool changed_ = false;
  bool journaling_ = false;
  std::uint64_t saved_next_order_ = 0;
  std::uint64_t sequential_count_ = 0;
  std::vector<WatchEvent> events_;
  std::vector<Undo> journal_;
};

// Exactly-once (Raft thesis §6.3) around the command itself.
ApplyResult apply_once(State& s, const Command& c) {
  const std::uint64_t stamp = ++s.apply_counter;
  if (c.client_id == 0 || c.seq == 0) return Executor(s, c).run();

  if (auto it = s.clients.find(c.client_id); it != s.clients.end()) {
    detail::ClientRecord& rec = it->second;
    if (auto done = rec.results.find(c.seq); done != rec.results.end()) return done->second;  // stored without events
    if (c.seq < rec.acked_below) {
      ApplyResult r;
      r.status = Status(Errc::bad_request, "duplicate of an old request (client " + u64(c.client_id) + ", seq " +
                                               u64(c.seq) + ")");
      r.revision = s.revision;
      return r;
    }
  }
  ApplyResult result = Executor(s, c).run();
  // Receivers handed messages inside this command (MqHandoff) took the stamps after ours:
  // take a fresh one, so no two clients share one in the eviction order.
  if (s.apply_counter != stamp) ++s.apply_counter;
  // A receive that leased nothing changed nothing: it is not remembered, so the leader may
  // propose the same (client, seq) again when messages arrive for a waiting receiver.
  if (c.kind == CommandKind::mq && c.mq && c.mq->kind == MqKind::receive && result.status.ok() &&
      result.mq.delivered.empty()) {
    return result;
  }

  detail::ClientRecord& rec = s.clients[c.client_id];
  if (c.acked_below > rec.acked_below) {
    rec.acked_below = c.acked_below;
    rec.results.erase(rec.results.begin(), rec.results.lower_bound(c.acked_below));
  }
  if (c.seq >= rec.acked_below) {
    ApplyResult& stored = rec.results[c.seq];
    stored.status = result.status;
    stored.failed_op = result.failed_op;
    stored.results = result.results;
    stored.revision = result.revision;
    stored.session = result.session;
    stored.mq = result.mq;
    stored.mq.woken.clear();
    stored.mq.handoffs.clear();  // each is remembered as its own client's receive
  }
  s.touch_client(c.client_id, rec);
  s.evict_clients();
  return result;
}

}  // namespace

Store::Store(StoreLimits limits) : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
  impl_->queues = QueueBook(limits.max_name);
}
Store::~Store() = default;
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;

ApplyResult Store::apply(const Command& command) {
  try {
    return apply_once(*impl_, command);
  } catch (const std::exception& e) {
    // Only allocation can throw here; a half-applied command must not live on.
    detail::panic("exception while applying a command at revision %" PRIu64 ": %s", impl_->revision, e.what());
  }
}

const Node* Store::find(std::string_view domain, std::string_view node) const {
  const Entry* e = impl_->find_entry(domain, node);
  return e ? &e->node : nullptr;
}

std::vector<Node> Store::list(std::string_view domain) const {
  std::vector<Node> out;
  if (const detail::Domain* d = impl_->find_domain(domain)) {
    out.reserve(d->by_order.size());
    for (const auto& [order, entry] : d->by_order) out.push_back(entry->node);
  }
  return out;
}

bool Store::has_domain(std::string_view domain) const { return impl_->find_domain(domain) != nullptr; }

std::uint64_t Store::domain_revision(std::string_view domain) const {
  const detail::Domain* d = impl_->find_domain(domain);
  return d ? d->meta.last_change_revision : 0;
}

std::uint64_t Store::revision() const { return impl_->revision; }
std::size_t Store::bytes() const { return impl_->bytes + impl_->queues.bytes(); }
const QueueBook& Store::queues() const { return impl_->queues; }
std::size_t Store::node_count() const { return impl_->node_count; }
std::size_t Store::domain_count() const { return impl_->domains.size(); }
const std::map<std::uint64_t, SessionRecord>& Store::sessions() const { return impl_->sessions; }

std::vector<Store::DomainSummary> Store::domains(std::string_view after, std::size_t max) const {
  std::vector<DomainSummary> out;
  for (auto it = impl_->domains.upper_bound(after); it != impl_->domains.end() && out.size() < max; ++it) {
    out.push_back(DomainSummary{it->first, it->second.nodes.size(), it->second.meta.last_change_revision});
  }
  return out;
}

std::size_t Store::heartbeat_node_count() const {
  std::size_t n = 0;
  for (const auto& [session, nodes] : impl_->session_nodes) n += nodes.size();
  return n;
}

std::size_t Store::ttl_node_count() const { return impl_->ttl_index.size(); }

std::vector<NodeRef> Store::ttl_expired(std::int64_t now_ms, std::size_t max) const {
  std::vector<NodeRef> out;
  for (const auto& [key, node] : impl_->ttl_index) {
    if (out.size() >= max || std::get<0>(key) > now_ms) break;
    out.push_back(NodeRef{node.domain, node.name, std::get<1>(key)});
  }
  return out;
}

std::vector<NodeRef> Store::created_before(std::int64_t created_before_ms, std::size_t max) const {
  std::vector<NodeRef> out;
  for (const auto& [key, node] : impl_->created_index) {
    if (out.size() >= max || std::get<0>(key) >= created_before_ms) break;
    out.push_back(NodeRef{node.domain, node.name, std::get<1>(key)});
  }
  return out;
}

}  // namespace fourinone::park
