// The Store against a model: random commands (creates, sequential creates, updates and
// removes with right, wrong or any versions, checks, domain removal, transactions mixing them,
// sessions with heartbeat nodes, TTL expiry, retried client commands) go to the Store and to a
// plain std::map model written here from the rules in store.hpp / command.hpp; after every
// step the answers and all reads must agree.
//
// The seeds are fixed, so a failure replays; FOURINONE_STORE_SEED=<n> runs one other seed.
#include <doctest/doctest.h>

#include <cereal/types/map.hpp>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tests/unit/store_test_util.hpp"

using fourinone::Errc;
using fourinone::errc_name;
using fourinone::Node;
using fourinone::WatchEvent;
using fourinone::park::ApplyResult;
using fourinone::park::NodeRef;
using fourinone::park::Store;
using fourinone::park::StoreLimits;
using namespace store_test;

namespace {

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
constexpr std::size_t kMaxValue = 32;
const std::vector<std::string> kDomains{"d0", "d1", "d2", "d3"};
const std::vector<std::string> kNodes{"a", "b", "c", "d", "e", "f", "g", "h"};
const std::vector<std::string> kCallers{"alice", "bob", "carol"};

// --- the model -------------------------------------------------------------------------------

struct MNode {
  Node node;  // every field as the store should hold it
  std::uint64_t order = 0;
};

struct MDomain {
  std::string creator;
  bool deletable = false;
  std::uint64_t last_change = 0;
  std::map<std::string, MNode> nodes;
};

struct MState {
  std::uint64_t revision = 0;
  std::uint64_t next_order = 1;
  std::uint64_t next_session = 1;
  std::map<std::string, MDomain> domains;
  std::map<std::uint64_t, fourinone::park::SessionRecord> sessions;
};

struct MEvent {
  WatchEvent::Type type;
  std::string domain, name;
  std::uint64_t version;
};

struct Outcome {
  Errc code = Errc::ok;
  std::size_t failed_op = kNone;
  std::uint64_t revision = 0;
  std::uint64_t session = 0;
  // Per op result: the node's name and version, then the names of removed nodes.
  std::vector<std::string> results;
};

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 255) return false;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f || c == '/' || c >= 0x80) return false;  // the generator makes ASCII only
  }
  return true;
}

std::string seq_name(std::uint64_t revision, std::uint64_t k) {
  char buf[48];
  if (k == 0) {
    std::snprintf(buf, sizeof buf, "%020" PRIu64, revision);
  } else {
    std::snprintf(buf, sizeof buf, "%020" PRIu64 "-%010" PRIu64, revision, k);
  }
  return buf;
}

std::string describe(const Node& n) { return n.domain + "/" + n.name + "@" + std::to_string(n.version); }

class Model {
 public:
  MState st;

  Outcome apply(const Command& c, std::vector<MEvent>& events) {
    events.clear();
    if (c.client_id != 0 && c.seq != 0) {
      if (auto it = clients_.find(c.client_id); it != clients_.end()) {
        if (auto done = it->second.results.find(c.seq); done != it->second.results.end()) return done->second;
        if (c.seq < it->second.acked_below) return Outcome{Errc::bad_request, kNone, st.revision, 0, {}};
      }
    }
    Outcome o = run(c, events);
    if (c.client_id != 0 && c.seq != 0) {
      Client& rec = clients_[c.client_id];
      if (c.acked_below > rec.acked_below) {
        rec.acked_below = c.acked_below;
        rec.results.erase(rec.results.begin(), rec.results.lower_bound(c.acked_below));
      }
      if (c.seq >= rec.acked_below) rec.results[c.seq] = o;
    }
    return o;
  }

  // The nodes of a domain in creation order.
  std::vector<Node> list(const std::string& domain) const {
    std::map<std::uint64_t, Node> by_order;
    if (auto d = st.domains.find(domain); d != st.domains.end()) {
      for (const auto& [name, m] : d->second.nodes) by_order.emplace(m.order, m.node);
    }
    std::vector<Node> out;
    for (auto& [order, n] : by_order) out.push_back(n);
    return out;
  }

  // ttl_expired / created_before, from first principles.
  std::vector<std::string> due(bool ttl, std::int64_t now_ms) const {
    std::map<std::tuple<std::int64_t, std::uint64_t, std::uint64_t>, std::string> sorted;
    for (const auto& [dname, d] : st.domains) {
      for (const auto& [name, m] : d.nodes) {
        const Node& n = m.node;
        if (ttl ? (n.expires_ms != 0 && n.expires_ms <= now_ms) : (n.session == 0 && n.created_ms < now_ms)) {
          sorted.emplace(std::make_tuple(ttl ? n.expires_ms : n.created_ms, n.create_revision, m.order),
                         dname + "/" + name + "#" + std::to_string(n.create_revision));
        }
      }
    }
    std::vector<std::string> out;
    for (auto& [key, s] : sorted) out.push_back(s);
    return out;
  }

 private:
  struct Client {
    std::uint64_t acked_below = 0;
    std::map<std::uint64_t, Outcome> results;
  };
  std::map<std::uint64_t, Client> clients_;

  static void remove(MState& s, const std::string& domain, const std::string& name, std::uint64_t rev,
                     std::vector<MEvent>& events, Outcome* removed_into) {
    MDomain& d = s.domains.at(domain);
    const Node n = d.nodes.at(name).node;
    events.push_back({WatchEvent::Type::deleted, domain, name, n.version});
    if (removed_into) removed_into->results.push_back("removed " + describe(n));
    d.nodes.erase(name);
    if (d.nodes.empty()) {
      s.domains.erase(domain);
    } else {
      d.last_change = rev;
    }
  }

  static MNode* find(MState& s, const std::string& domain, const std::string& name) {
    auto d = s.domains.find(domain);
    if (d == s.domains.end()) return nullptr;
    auto n = d->second.nodes.find(name);
    return n == d->second.nodes.end() ? nullptr : &n->second;
  }

  Outcome run(const Command& c, std::vector<MEvent>& events) {
    const std::uint64_t rev = st.revision + 1;
    switch (c.kind) {
      case CommandKind::noop: return Outcome{Errc::ok, kNone, st.revision, 0, {}};
      case CommandKind::mq:  // queues are tested in queue_book_test.cpp; the model never makes one
        FAIL("the store model does not generate queue commands");
        return Outcome{Errc::bad_request, kNone, st.revision, 0, {}};
      case CommandKind::open_session: {
        if (c.session_timeout_ms <= 0) return Outcome{Errc::bad_request, kNone, st.revision, 0, {}};
        std::uint64_t id = st.next_session++;
        st.sessions[id] = {id, c.caller, c.session_timeout_ms, c.now_ms};
        return Outcome{Errc::ok, kNone, st.revision, id, {}};
      }
      case CommandKind::close_session:
      case CommandKind::expire_session: {
        auto it = st.sessions.find(c.session);
        if (it == st.sessions.end()) return Outcome{Errc::not_found, kNone, st.revision, 0, {}};
        if (c.kind == CommandKind::close_session && it->second.owner != c.caller) {
          return Outcome{Errc::no_permission, kNone, st.revision, 0, {}};
        }
        st.sessions.erase(it);
        std::map<std::uint64_t, std::pair<std::string, std::string>> owned;
        for (const auto& [dname, d] : st.domains) {
          for (const auto& [name, m] : d.nodes) {
            if (m.node.session == c.session) owned[m.order] = {dname, name};
          }
        }
        Outcome o{Errc::ok, kNone, st.revision, 0, {"/@0"}};
        for (const auto& [order, key] : owned) remove(st, key.first, key.second, rev, events, &o);
        if (!owned.empty()) st.revision = rev;
        o.revision = st.revision;
        return o;
      }
      case CommandKind::expire_nodes: {
        Outcome o{Errc::ok, kNone, st.revision, 0, {"/@0"}};
        bool changed = false;
        for (const NodeRef& t : c.targets) {
          MNode* m = find(st, t.domain, t.node);
          if (m && m->node.create_revision == t.create_revision) {
            remove(st, t.domain, t.node, rev, events, &o);
            changed = true;
          }
        }
        if (changed) st.revision = rev;
        o.revision = st.revision;
        return o;
      }
      case CommandKind::txn: break;
    }

    MState work = st;
    bool changed = false;
    std::uint64_t sequential = 0;
    Outcome o;
    for (std::size_t i = 0; i < c.ops.size(); ++i) {
      Errc e = run_op(work, c, c.ops[i], rev, sequential, changed, events, o);
      if (e != Errc::ok) {
        events.clear();
        return Outcome{e, i, st.revision, 0, {}};
      }
    }
    if (changed) work.revision = rev;
    st = std::move(work);
    o.revision = st.revision;
    return o;
  }

  static Errc run_op(MState& s, const Command& c, const Op& op, std::uint64_t rev, std::uint64_t& sequential,
                     bool& changed, std::vector<MEvent>& events, Outcome& o) {
    const bool named = op.kind != OpKind::create_sequential && op.kind != OpKind::remove_domain &&
                       op.kind != OpKind::set_deletable;
    if (!valid_name(op.domain) || (named && !valid_name(op.node))) return Errc::bad_request;
    switch (op.kind) {
      case OpKind::check: {
        if (op.version < -1) return Errc::bad_request;
        MNode* m = find(s, op.domain, op.node);
        if (op.version == 0) {
          if (m) return Errc::exists;
          o.results.push_back(op.domain + "/" + op.node + "@0");
          return Errc::ok;
        }
        if (!m) return Errc::not_found;
        if (op.version != -1 && static_cast<std::uint64_t>(op.version) != m->node.version) return Errc::bad_version;
        o.results.push_back(describe(m->node));
        return Errc::ok;
      }
      case OpKind::create:
      case OpKind::create_sequential: {
        if (op.value.size() > kMaxValue) return Errc::too_large;
        if (op.heartbeat) {
          auto it = s.sessions.find(c.session);
          if (it == s.sessions.end()) return Errc::session_expired;
          if (it->second.owner != c.caller) return Errc::no_permission;
        }
        std::string name = op.kind == OpKind::create ? op.node : seq_name(rev, sequential++);
        if (find(s, op.domain, name)) return Errc::exists;
        auto [dit, fresh] = s.domains.try_emplace(op.domain);
        if (fresh) dit->second.creator = c.caller;
        dit->second.last_change = rev;
        MNode& m = dit->second.nodes[name];
        m.order = s.next_order++;
        Node& n = m.node;
        n.domain = op.domain;
        n.name = name;
        n.value = op.value;
        n.version = 1;
        n.create_revision = n.mod_revision = rev;
        n.creator = c.caller;
        n.create_host = n.update_host = c.host;
        n.created_ms = n.updated_ms = c.now_ms;
        n.policy = op.policy;
        n.session = op.heartbeat ? c.session : 0;
        n.expires_ms = op.ttl_ms > 0 ? c.now_ms + op.ttl_ms : 0;
        events.push_back({WatchEvent::Type::created, op.domain, name, 1});
        o.results.push_back(describe(n));
        changed = true;
        return Errc::ok;
      }
      case OpKind::update: {
        if (op.version < -1) return Errc::bad_request;
        if (op.value.size() > kMaxValue) return Errc::too_large;
        MNode* m = find(s, op.domain, op.node);
        if (!m) return Errc::not_found;
        Node& n = m->node;
        if (op.version != -1 && static_cast<std::uint64_t>(op.version) != n.version) return Errc::bad_version;
        if (c.caller != n.creator && n.policy == Policy::read) return Errc::no_permission;
        if (n.value != op.value) {
          n.value = op.value;
          ++n.version;
          n.mod_revision = rev;
          n.updated_ms = c.now_ms;
          n.update_host = c.host;
          s.domains.at(op.domain).last_change = rev;
          events.push_back({WatchEvent::Type::updated, op.domain, op.node, n.version});
          changed = true;
        }
        o.results.push_back(describe(n));
        return Errc::ok;
      }
      case OpKind::remove: {
        if (op.version < -1) return Errc::bad_request;
        MNode* m = find(s, op.domain, op.node);
        if (!m) return Errc::not_found;
        if (op.version != -1 && static_cast<std::uint64_t>(op.version) != m->node.version) return Errc::bad_version;
        if (c.caller != m->node.creator && m->node.policy != Policy::all) return Errc::no_permission;
        o.results.push_back(describe(m->node));
        remove(s, op.domain, op.node, rev, events, nullptr);
        changed = true;
        return Errc::ok;
      }
      case OpKind::remove_domain: {
        auto d = s.domains.find(op.domain);
        if (d == s.domains.end()) return Errc::not_found;
        std::map<std::uint64_t, std::string> by_order;
        for (const auto& [name, m] : d->second.nodes) {
          bool may = d->second.creator == c.caller || d->second.deletable || m.node.creator == c.caller ||
                     m.node.policy == Policy::all;
          if (!may) return Errc::no_permission;
          by_order[m.order] = name;
        }
        o.results.push_back("/@0");
        for (const auto& [order, name] : by_order) remove(s, op.domain, name, rev, events, &o);
        changed = true;
        return Errc::ok;
      }
      case OpKind::set_deletable: {
        auto d = s.domains.find(op.domain);
        if (d == s.domains.end()) return Errc::not_found;
        if (d->second.creator != c.caller) return Errc::no_permission;
        d->second.deletable = true;
        o.results.push_back("/@0");
        return Errc::ok;
      }
    }
    return Errc::bad_request;
  }
};

// The store's answer in the model's terms.
Outcome outcome(const ApplyResult& r) {
  Outcome o{r.status.code(), r.failed_op, r.revision, r.session, {}};
  for (const auto& res : r.results) {
    o.results.push_back(res.node.domain.empty() && res.node.name.empty() ? "/@0" : describe(res.node));
    for (const Node& n : res.removed) o.results.push_back("removed " + describe(n));
  }
  return o;
}

std::string show(const Outcome& o) {
  std::string s = std::string(errc_name(o.code)) + " failed_op=" + (o.failed_op == kNone ? "-" : std::to_string(o.failed_op)) +
                  " rev=" + std::to_string(o.revision) + " session=" + std::to_string(o.session) + " [";
  for (const auto& r : o.results) s += r + "; ";
  return s + "]";
}

// --- the random commands ---------------------------------------------------------------------

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {}

  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(int percent) { return below(100) < static_cast<std::uint64_t>(percent); }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

  Command next(const Model& m, std::int64_t now_ms) {
    if (!history_.empty() && chance(8)) {  // a client retries
      ++retried;
      return pick(history_);
    }
    Command c;
    c.caller = pick(kCallers);
    c.host = "10.0.0." + std::to_string(below(3));
    c.now_ms = now_ms;
    const auto roll = below(100);
    if (roll < 70) {
      c.kind = CommandKind::txn;
      std::size_t n = chance(65) ? 1 : 2 + below(3);
      c.session = session_for(m, c.caller);
      for (std::size_t i = 0; i < n; ++i) c.ops.push_back(op(m));
    } else if (roll < 77) {
      c.kind = CommandKind::open_session;
      c.session_timeout_ms = chance(3) ? 0 : 1000 + static_cast<std::int64_t>(below(5000));
    } else if (roll < 87) {
      c.kind = chance(70) ? CommandKind::close_session : CommandKind::expire_session;
      c.session = any_session(m);
      if (chance(80)) {
        if (auto it = m.st.sessions.find(c.session); it != m.st.sessions.end()) c.caller = it->second.owner;
      }
    } else if (roll < 93) {
      c.kind = CommandKind::expire_nodes;
      for (const auto& [dname, d] : m.st.domains) {
        for (const auto& [name, mn] : d.nodes) {
          if (chance(8)) c.targets.push_back(NodeRef{dname, name, mn.node.create_revision + (chance(25) ? 1 : 0)});
        }
      }
      if (chance(20)) c.targets.push_back(NodeRef{pick(kDomains), pick(kNodes), 1});
    } else {
      c.kind = CommandKind::noop;
    }
    if (chance(45)) {
      c.client_id = 1 + below(3);
      c.seq = ++seq_[c.client_id];
      c.acked_below = c.seq > 3 ? c.seq - below(4) : 0;
      history_.push_back(c);
      if (history_.size() > 40) history_.erase(history_.begin());
    }
    return c;
  }

  std::size_t retried = 0;  // commands that were retries

 private:
  std::uint64_t any_session(const Model& m) {
    if (m.st.sessions.empty() || chance(10)) return below(m.st.next_session + 1);
    auto it = m.st.sessions.begin();
    std::advance(it, static_cast<long>(below(m.st.sessions.size())));
    return it->first;
  }

  std::uint64_t session_for(const Model& m, const std::string& caller) {
    if (chance(10)) return any_session(m);
    for (const auto& [id, rec] : m.st.sessions) {
      if (rec.owner == caller && chance(70)) return id;
    }
    return any_session(m);
  }

  std::string domain() { return chance(1) ? "bad/domain" : (chance(85) ? kDomains[below(3)] : "d3"); }

  Policy policy() {
    static const std::vector<Policy> policies{Policy::read, Policy::read_write, Policy::all};
    return pick(policies);
  }

  std::string value() {
    if (chance(3)) return std::string(kMaxValue + 1 + below(4), 'L');
    static const std::vector<std::string> values{"", "x", "y", "zz", std::string(kMaxValue, 'M')};
    return pick(values);
  }

  // A name of the small space that is free in the domain, if any.
  std::string free_node(const Model& m, const std::string& d) {
    std::vector<std::string> free;
    auto it = m.st.domains.find(d);
    for (const std::string& n : kNodes) {
      if (it == m.st.domains.end() || it->second.nodes.count(n) == 0) free.push_back(n);
    }
    return free.empty() ? pick(kNodes) : pick(free);
  }

  // An existing node of the domain most of the time, else any name of the small space.
  std::string node_of(const Model& m, const std::string& d) {
    if (chance(1)) return "";
    auto it = m.st.domains.find(d);
    if (it != m.st.domains.end() && chance(75)) {
      auto n = it->second.nodes.begin();
      std::advance(n, static_cast<long>(below(it->second.nodes.size())));
      return n->first;
    }
    return pick(kNodes);
  }

  std::int64_t version(const Model& m, const std::string& d, const std::string& n) {
    auto r = below(100);
    if (r < 1) return -2;
    if (r < 35) return kAnyVersion;
    std::int64_t current = 0;
    if (auto it = m.st.domains.find(d); it != m.st.domains.end()) {
      if (auto x = it->second.nodes.find(n); x != it->second.nodes.end()) current = static_cast<std::int64_t>(x->second.node.version);
    }
    if (r < 75) return current;
    return chance(50) ? current + 1 : static_cast<std::int64_t>(below(4));
  }

  Op op(const Model& m) {
    Op o;
    o.domain = domain();
    const auto roll = below(100);
    if (roll < 36) {
      o = create_op(o.domain, chance(90) ? free_node(m, o.domain) : node_of(m, o.domain), value(),
                    policy(), chance(20),
                    chance(25) ? 1 + static_cast<std::int64_t>(below(300)) : 0);
    } else if (roll < 45) {
      o = sequential_op(o.domain, value(), policy());
      o.heartbeat = chance(15);
      o.ttl_ms = chance(20) ? 1 + static_cast<std::int64_t>(below(300)) : 0;
    } else if (roll < 68) {
      std::string n = node_of(m, o.domain);
      o = update_op(o.domain, n, value(), version(m, o.domain, n));
    } else if (roll < 80) {
      std::string n = node_of(m, o.domain);
      o = remove_op(o.domain, n, version(m, o.domain, n));
    } else if (roll < 92) {
      std::string n = node_of(m, o.domain);
      o = check_op(o.domain, n, chance(20) ? 0 : version(m, o.domain, n));
    } else if (roll < 95) {
      o = remove_domain_op(o.domain);
    } else {
      o = set_deletable_op(o.domain);
    }
    return o;
  }

  std::mt19937_64 rng_;
  std::map<std::uint64_t, std::uint64_t> seq_;
  std::vector<Command> history_;
};

// --- comparing -------------------------------------------------------------------------------

std::vector<std::string> described(const std::vector<Node>& nodes) {
  std::vector<std::string> out;
  for (const Node& n : nodes) out.push_back(describe(n));
  return out;
}

void compare(const Store& s, const Model& m, std::int64_t now_ms) {
  CHECK(s.revision() == m.st.revision);
  std::size_t nodes = 0;
  for (const std::string& d : kDomains) {
    CAPTURE(d);
    auto md = m.st.domains.find(d);
    const bool exists = md != m.st.domains.end();
    CHECK(s.has_domain(d) == exists);
    CHECK(s.domain_revision(d) == (exists ? md->second.last_change : 0));
    const std::vector<Node> got = s.list(d);
    const std::vector<Node> want = m.list(d);
    nodes += want.size();
    CHECK(described(got) == described(want));  // names, versions and order
    for (std::size_t i = 0; i < got.size() && i < want.size(); ++i) {
      if (encode(got[i]) != encode(want[i])) FAIL_CHECK("list: a field of " << describe(want[i]) << " differs");
    }
    for (const Node& n : want) {
      const Node* found = s.find(d, n.name);
      if (!found || encode(*found) != encode(n)) FAIL_CHECK("find: " << describe(n) << " differs or is missing");
    }
    for (const std::string& n : kNodes) {
      const bool in_model = exists && md->second.nodes.count(n) == 1;
      if ((s.find(d, n) != nullptr) != in_model) FAIL_CHECK("find: " << d << "/" << n << " in the model: " << in_model);
    }
  }
  CHECK(s.node_count() == nodes);
  CHECK(s.domain_count() == m.st.domains.size());
  CHECK((encode(s.sessions()) == encode(m.st.sessions)));

  std::vector<std::string> ttl, created;
  for (const NodeRef& r : s.ttl_expired(now_ms, 1000)) ttl.push_back(r.domain + "/" + r.node + "#" + std::to_string(r.create_revision));
  for (const NodeRef& r : s.created_before(now_ms - 100, 1000)) {
    created.push_back(r.domain + "/" + r.node + "#" + std::to_string(r.create_revision));
  }
  CHECK(ttl == m.due(true, now_ms));
  CHECK(created == m.due(false, now_ms - 100));
}

void run_model(std::uint64_t seed, int steps) {
  CAPTURE(seed);
  StoreLimits limits;
  limits.max_value = kMaxValue;
  Store store(limits);
  Model model;
  Generator gen(seed);
  std::int64_t now_ms = 1'000'000;
  std::size_t failures = 0, events_seen = 0;
  std::vector<MEvent> want_events;

  for (int step = 1; step <= steps; ++step) {
    CAPTURE(step);
    now_ms += static_cast<std::int64_t>(gen.below(20));
    Command c = gen.next(model, now_ms);
    if (c.kind == CommandKind::expire_nodes && gen.chance(50)) {
      for (const NodeRef& r : store.ttl_expired(now_ms, 3)) c.targets.push_back(r);  // the leader's TTL timer
    }
    const std::string before = store.save();

    ApplyResult got = store.apply(c);
    Outcome want = model.apply(c, want_events);
    const Outcome seen = outcome(got);
    INFO("store: " << show(seen));
    INFO("model: " << show(want));
    REQUIRE(seen.code == want.code);
    CHECK(seen.failed_op == want.failed_op);
    CHECK(seen.revision == want.revision);
    CHECK(seen.session == want.session);
    CHECK(seen.results == want.results);

    REQUIRE(got.events.size() == want_events.size());
    for (std::size_t i = 0; i < got.events.size(); ++i) {
      const WatchEvent& e = got.events[i];
      CHECK(e.type == want_events[i].type);
      CHECK(e.revision == got.revision);
      CHECK(e.node.domain == want_events[i].domain);
      CHECK(e.node.name == want_events[i].name);
      CHECK(e.node.version == want_events[i].version);
    }
    events_seen += got.events.size();
    if (!got.status.ok()) ++failures;

    // A refused command changes nothing: save() is that of the state before plus a noop.
    if (!got.status.ok() && c.client_id == 0) {
      auto twin = Store::load(before, limits);
      REQUIRE(twin.ok());
      Command noop;
      noop.kind = CommandKind::noop;
      (void)twin->apply(noop);
      CHECK((twin->save() == store.save()));
    }

    compare(store, model, now_ms);

    if (step % 100 == 0) {
      const std::string bytes = store.save();
      auto loaded = Store::load(bytes, limits);
      REQUIRE(loaded.ok());
      CHECK((loaded->save() == bytes));
      compare(*loaded, model, now_ms);
      store = std::move(*loaded);  // go on with the loaded copy
    }
  }
  // The run exercised what it is meant to.
  CHECK(failures > static_cast<std::size_t>(steps) / 10);
  CHECK(failures < static_cast<std::size_t>(steps) * 6 / 10);
  CHECK(events_seen > static_cast<std::size_t>(steps) / 3);
  CHECK(gen.retried > static_cast<std::size_t>(steps) / 30);
}

}  // namespace

TEST_SUITE("store") {

TEST_CASE("the store agrees with a simple model on random commands") {
  if (const char* env = std::getenv("FOURINONE_STORE_SEED")) {
    run_model(std::strtoull(env, nullptr, 10), 20000);
    return;
  }
  for (std::uint64_t seed : {20240601u, 7u, 99991u}) run_model(seed, 2500);
}

}  // TEST_SUITE
