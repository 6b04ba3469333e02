// Store::save / Store::load: the whole state as bytes.
//
// Format: one version byte (kSnapshotVersion), then a cereal portable-binary archive of
//   revision, next_order, next_session, apply_counter,
//   sessions   (count; id, owner, timeout_ms, opened_ms),
//   domains    (count, by name; name, creator, deletable, last_change_revision,
//               nodes (count, creation order; order, node without its domain)),
//   clients    (count, by id; id, acked_below, last_apply,
//               results (count, by seq; seq, ApplyResult without events)),
//   queues     (version 2: QueueBook::save() as one string; see park/queue/queue_snapshot.cpp).
// In version 2 a remembered ApplyResult also ends with its MqResult (wire-encoded string).
// Version 1 snapshots (before the message queue) still load, with no channels.
// Everything is written in map order, so equal states give equal bytes. The indices (TTL,
// creation time, sessions' nodes, bytes) are derived and rebuilt on load.
//
// load() reads untrusted bytes (a snapshot sent by another server, a damaged file): every
// length is checked against the bytes left before anything is allocated, every invariant the
// primitives rely on is checked before the state is built, and any failure is bad_request.
#include <algorithm>
#include <cereal/archives/portable_binary.hpp>
#include <exception>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <utility>

#include "core/wire_archive.hpp"
#include "park/store/state.hpp"
#include "park/store/store.hpp"

namespace fourinone::park {
namespace {

using detail::ClientRecord;
using detail::DomainMeta;

constexpr std::uint8_t kSnapshotVersion = 2;
constexpr std::uint8_t kOldestSnapshotVersion = 1;

class Corrupt : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --- writing -------------------------------------------------------------------------------

class Writer {
 public:
  explicit Writer(std::ostream& out) : ar_(out) {}
  void u8(std::uint8_t v) { ar_(v); }
  void u64(std::uint64_t v) { ar_(v); }
  void i64(std::int64_t v) { ar_(v); }
  void str(const std::string& s) { ar_(s); }

  void node(const Node& n, bool with_domain) {
    if (with_domain) str(n.domain);
    str(n.name);
    str(n.value);
    u64(n.version);
    u64(n.create_revision);
    u64(n.mod_revision);
    str(n.creator);
    str(n.create_host);
    str(n.update_host);
    i64(n.created_ms);
    i64(n.updated_ms);
    u8(static_cast<std::uint8_t>(n.policy));
    u64(n.session);
    i64(n.expires_ms);
  }

  void result(const ApplyResult& r) {
    u8(static_cast<std::uint8_t>(r.status.code()));
    str(r.status.message());
    u64(r.failed_op);
    u64(r.results.size());
    for (const OpResult& o : r.results) {
      node(o.node, true);
      u64(o.removed.size());
      for (const Node& n : o.removed) node(n, true);
    }
    u64(r.revision);
    u64(r.session);
    str(core::encode(r.mq));
  }

 private:
  cereal::PortableBinaryOutputArchive ar_;
};

// --- reading -------------------------------------------------------------------------------

// A read-only streambuf over the caller's bytes (no copy) that can tell how much is left.
class ViewBuf : public std::streambuf {
 public:
  explicit ViewBuf(std::string_view bytes) {
    char* p = const_cast<char*>(bytes.data());  // never written: this buffer only reads
    setg(p, p, p + bytes.size());
  }
  std::size_t remaining() const { return static_cast<std::size_t>(egptr() - gptr()); }
};

class Reader {
 public:
  explicit Reader(ViewBuf& buf) : buf_(buf), in_(&buf), ar_(in_) {}

  std::uint8_t u8() { return get<std::uint8_t>(); }
  std::uint64_t u64() { return get<std::uint64_t>(); }
  std::int64_t i64() { return get<std::int64_t>(); }

  std::string str() {
    std::uint64_t size = 0;
    ar_(cereal::make_size_tag(size));
    if (size > buf_.remaining()) throw Corrupt("a string of " + std::to_string(size) + " bytes runs past the end");
    std::string s(static_cast<std::size_t>(size), '\0');
    ar_(cereal::binary_data(s.data(), s.size()));
    return s;
  }

  // A count of elements that take at least one byte each.
  std::uint64_t count(const char* what) {
    std::uint64_t n = u64();
    if (n > buf_.remaining()) throw Corrupt(std::string("the count of ") + what + " runs past the end");
    return n;
  }

  Policy policy() {
    auto p = static_cast<Policy>(u8());
    if (p != Policy::read && p != Policy::read_write && p != Policy::all) throw Corrupt("unknown policy");
    return p;
  }

  Node node(const std::string* domain) {
    Node n;
    n.domain = domain ? *domain : str();
    n.name = str();
    n.value = str();
    n.version = u64();
    n.create_revision = u64();
    n.mod_revision = u64();
    n.creator = str();
    n.create_host = str();
    n.update_host = str();
    n.created_ms = i64();
    n.updated_ms = i64();
    n.policy = policy();
    n.session = u64();
    n.expires_ms = i64();
    return n;
  }

  ApplyResult result(bool with_mq) {
    ApplyResult r;
    std::uint8_t code = u8();
    if (code > static_cast<std::uint8_t>(kLastErrc)) throw Corrupt("unknown error code");
    std::string message = str();
    if (code != 0) r.status = Status(static_cast<Errc>(code), std::move(message));
    r.failed_op = static_cast<std::size_t>(u64());
    for (std::uint64_t i = 0, n = count("op results"); i < n; ++i) {
      OpResult o;
      o.node = node(nullptr);
      for (std::uint64_t k = 0, m = count("removed nodes"); k < m; ++k) o.removed.push_back(node(nullptr));
      r.results.push_back(std::move(o));
    }
    r.revision = u64();
    r.session = u64();
    if (with_mq) {
      if (Status s = core::decode(str(), r.mq, "remembered queue result"); !s.ok()) throw Corrupt(s.message());
    }
    return r;
  }

  std::size_t remaining() const { return buf_.remaining(); }

 private:
  template <class T>
  T get() {
    T v{};
    ar_(v);
    return v;
  }

  ViewBuf& buf_;
  std::istream in_;
  cereal::PortableBinaryInputArchive ar_;
};

void require(bool ok, const char* what) {
  if (!ok) throw Corrupt(what);
}

struct LoadedDomain {
  std::string name;
  DomainMeta meta;
  std::vector<std::pair<std::uint64_t, Node>> nodes;  // (order, node)
};

}  // namespace

std::string Store::save() const {
  const detail::State& s = *impl_;
  std::ostringstream out;
  out.put(static_cast<char>(kSnapshotVersion));
  {
    Writer w(out);
    w.u64(s.revision);
    w.u64(s.next_order);
    w.u64(s.next_session);
    w.u64(s.apply_counter);
    w.u64(s.sessions.size());
    for (const auto& [id, rec] : s.sessions) {
      w.u64(rec.id);
      w.str(rec.owner);
      w.i64(rec.timeout_ms);
      w.i64(rec.opened_ms);
    }
    w.u64(s.domains.size());
    for (const auto& [name, d] : s.domains) {
      w.str(name);
      w.str(d.meta.creator);
      w.u8(d.meta.deletable ? 1 : 0);
      w.u64(d.meta.last_change_revision);
      w.u64(d.by_order.size());
      for (const auto& [order, entry] : d.by_order) {
        w.u64(order);
        w.node(entry->node, false);
      }
    }
    w.u64(s.clients.size());
    for (const auto& [id, rec] : s.clients) {
      w.u64(id);
      w.u64(rec.acked_below);
      w.u64(rec.last_apply);
      w.u64(rec.results.size());
      for (const auto& [seq, result] : rec.results) {
        w.u64(seq);
        w.result(result);
      }
    }
    w.str(s.queues.save());
  }
  return std::move(out).str();
}

Result<Store> Store::load(std::string_view bytes, StoreLimits limits) {
  if (bytes.empty()) return Status(Errc::bad_request, "corrupt store snapshot: it is empty");
  const auto version = static_cast<std::uint8_t>(bytes[0]);
  if (version < kOldestSnapshotVersion || version > kSnapshotVersion) {
    return Status(Errc::bad_request, "store snapshot has version " + std::to_string(static_cast<unsigned>(
                                                                          static_cast<std::uint8_t>(bytes[0]))) +
                                         "; this build reads versions " + std::to_string(kOldestSnapshotVersion) + " to " +
                                         std::to_string(kSnapshotVersion));
  }
  try {
    Store store(limits);
    detail::State& s = *store.impl_;
    ViewBuf buf(bytes.substr(1));
    Reader r(buf);

    s.revision = r.u64();
    s.next_order = r.u64();
    s.next_session = r.u64();
    s.apply_counter = r.u64();
    require(s.next_order >= 1 && s.next_session >= 1, "counters start at 1");

    for (std::uint64_t i = 0, n = r.count("sessions"); i < n; ++i) {
      SessionRecord rec;
      rec.id = r.u64();
      rec.owner = r.str();
      rec.timeout_ms = r.i64();
      rec.opened_ms = r.i64();
      require(rec.id != 0 && rec.id < s.next_session, "session id out of range");
      require(s.sessions.emplace(rec.id, rec).second, "session listed twice");
    }

    // Decode and check every domain before building, so no primitive can meet a broken
    // invariant (they abort; a bad snapshot must not).
    std::vector<LoadedDomain> domains;
    std::vector<std::uint64_t> orders;
    for (std::uint64_t i = 0, n = r.count("domains"); i < n; ++i) {
      LoadedDomain d;
      d.name = r.str();
      d.meta.creator = r.str();
      std::uint8_t deletable = r.u8();
      require(deletable <= 1, "bad deletable flag");
      d.meta.deletable = deletable == 1;
      d.meta.last_change_revision = r.u64();
      require(d.meta.last_change_revision <= s.revision, "domain changed after the store revision");
      require(domains.empty() || domains.back().name < d.name, "domains out of order");
      std::uint64_t count = r.count("nodes");
      require(count > 0, "empty domain");
      std::uint64_t last_order = 0;
      for (std::uint64_t k = 0; k < count; ++k) {
        std::uint64_t order = r.u64();
        Node node = r.node(&d.name);
        require(order > last_order && order < s.next_order, "node creation order out of range");
        last_order = order;
        require(node.version >= 1, "node version 0");
        require(node.create_revision >= 1 && node.create_revision <= node.mod_revision &&
                    node.mod_revision <= s.revision,
                "node revisions out of range");
        require(node.session == 0 || s.sessions.count(node.session) == 1, "heartbeat node of an unknown session");
        orders.push_back(order);
        d.nodes.emplace_back(order, std::move(node));
      }
      std::vector<std::string_view> names;
      for (const auto& [order, node] : d.nodes) names.push_back(node.name);
      std::sort(names.begin(), names.end());
      require(std::adjacent_find(names.begin(), names.end()) == names.end(), "node name listed twice");
      domains.push_back(std::move(d));
    }
    std::sort(orders.begin(), orders.end());
    require(std::adjacent_find(orders.begin(), orders.end()) == orders.end(), "creation order used twice");

    for (std::uint64_t i = 0, n = r.count("clients"); i < n; ++i) {
      std::uint64_t id = r.u64();
      ClientRecord rec;
      rec.acked_below = r.u64();
      rec.last_apply = r.u64();
      require(id != 0 && s.clients.count(id) == 0, "bad or repeated client id");
      require(rec.last_apply != 0 && rec.last_apply <= s.apply_counter, "client apply counter out of range");
      require(s.client_lru.emplace(rec.last_apply, id).second, "two clients share an apply counter");
      for (std::uint64_t k = 0, m = r.count("client results"); k < m; ++k) {
        std::uint64_t seq = r.u64();
        require(seq != 0 && seq >= rec.acked_below, "remembered seq below acked_below");
        require(rec.results.emplace(seq, r.result(version >= 2)).second, "seq listed twice");
      }
      s.clients.emplace(id, std::move(rec));
    }
    require(s.clients.size() <= detail::kMaxClients, "too many clients");
    if (version >= 2) {
      auto queues = QueueBook::load(r.str(), limits.max_name);
      if (!queues.ok()) throw Corrupt(queues.status().message());
      s.queues = std::move(queues).value();
    } else {
      s.queues = QueueBook(limits.max_name);
    }
    require(r.remaining() == 0, "trailing bytes");

    for (LoadedDomain& d : domains) {
      for (auto& [order, node] : d.nodes) s.insert_node(std::move(node), order, d.meta, d.meta.last_change_revision);
    }
    return store;
  } catch (const std::exception& e) {
    return Status(Errc::bad_request, std::string("corrupt store snapshot: ") + e.what());
  }
}

}  // namespace fourinone::park
