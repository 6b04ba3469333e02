// The park: Fourinone's coordination service, seen from a client (DESIGN §4).
//
// A park holds a flat two-level store: domain -> node -> value. A domain exists while it has
// nodes. Each node carries a version (+1 on every real change) and the group-wide revisions
// of its creation and last change. Nodes may be sequential (named by the park, in creation
// order), heartbeat nodes (deleted when the creating session ends) or have a time to live.
// Watches stream every change from a revision on; nothing is skipped.
//
// Thread-safety: a Park object is safe to use from many threads at once. Callbacks (async
// results, watch events, session state) run one at a time, in order, on the client's callback
// thread; they may call the Park's synchronous methods. Destroying the Park closes its session
// (its heartbeat nodes are deleted at once) and cancels its watches.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fourinone/config.hpp"
#include "fourinone/error.hpp"
#include "fourinone/value.hpp"

namespace fourinone {

// Who may do what to a node besides its creator, who may do everything (the original's
// AuthPolicy): read = only read; read_write = also update; all = also delete.
enum class Policy : std::uint8_t { read = 1, read_write = 3, all = 7 };
const char* policy_name(Policy policy) noexcept;
Result<Policy> parse_policy(std::string_view text);  // "read", "read_write", "all"

inline constexpr std::int64_t kAnyVersion = -1;

struct Node {
  std::string domain;
  std::string name;
  std::string value;                // the bytes; see value.hpp
  std::uint64_t version = 0;        // 1 at creation, +1 on every real change
  std::uint64_t create_revision = 0;  // group revision of its creation: also a fencing token
  std::uint64_t mod_revision = 0;     // group revision of its last change
  std::string creator;              // the user (or, without logins, the client identity)
  std::string create_host;          // the creating client's address as the server saw it
  std::string update_host;
  std::int64_t created_ms = 0;      // leader's wall clock, ms since the Unix epoch
  std::int64_t updated_ms = 0;
  Policy policy = Policy::all;
  std::uint64_t session = 0;        // owning session of a heartbeat node; 0 for others
  std::int64_t expires_ms = 0;      // TTL deadline (leader's clock); 0 for none

  bool heartbeat() const noexcept { return session != 0; }
  template <class T>
  Result<T> as() const { return decode_value<T>(value); }
};

struct CreateOptions {
  Policy policy = Policy::all;
  bool heartbeat = false;               // belongs to this client's session
  std::chrono::milliseconds ttl{0};     // > 0: deleted this long after creation
};

// An all-or-nothing list of conditional writes. If any op fails, none takes effect and the
// error names the failing op.
class Txn {
 public:
  enum class Kind : std::uint8_t { check = 1, create, create_sequential, update, remove };
  struct Op {
    Kind kind = Kind::check;
    std::string domain;
    std::string node;
    std::string value;
    std::int64_t version = kAnyVersion;  // expected version; for check, 0 = must not exist
    CreateOptions options;
  };

  // The node must have this version (0: must not exist).
  Txn& check(std::string_view domain, std::string_view node, std::int64_t version);
  Txn& create(std::string_view domain, std::string_view node, std::string_view value, CreateOptions options = {});
  Txn& create_sequential(std::string_view domain, std::string_view value, CreateOptions options = {});
  Txn& update(std::string_view domain, std::string_view node, std::string_view value,
              std::int64_t expected_version = kAnyVersion);
  Txn& remove(std::string_view domain, std::string_view node, std::int64_t expected_version = kAnyVersion);

  const std::vector<Op>& ops() const noexcept { return ops_; }

 private:
  std::vector<Op> ops_;
};

struct TxnResult {
  std::uint64_t revision = 0;  // the group revision after the transaction
  std::vector<Node> nodes;     // one per op: the node as checked, created, updated or removed
};

// A domain's nodes as read at one revision.
struct DomainSnapshot {
  std::uint64_t revision = 0;  // pass it as since_revision to wait for the next change
  std::vector<Node> nodes;     // creation order; empty when the domain is gone
};

struct WatchEvent {
  enum class Type : std::uint8_t { created = 1, updated, deleted, resync };
  Type type = Type::created;
  std::uint64_t revision = 0;  // group revision of the change
  Node node;                   // for deleted: the node as it was; for resync: empty
};
const char* event_type_name(WatchEvent::Type type) noexcept;

// A running watch or listener; destroying it (or cancel()) stops the callbacks.
class Watch {
 public:
  virtual ~Watch() = default;
  virtual void cancel() = 0;
  // The revision of the last event delivered (or the start revision - 1).
  virtual std::uint64_t last_revision() const = 0;
};

enum class SessionState : std::uint8_t {
  none,        // no session opened yet (no heartbeat node created)
  connected,   // the park hears our heartbeats
  suspended,   // the connection is lost; the session may still be alive (retrying)
  expired,     // the park ended the session: our heartbeat nodes are gone. Fencing: stop
               // acting as leader or lock holder now.
  closed,      // closed by us
};
const char* session_state_name(SessionState state) noexcept;

struct ParkOptions {
  std::vector<ServerAddress> servers;   // tried in order until one answers
  std::string user;                     // empty: no login
  std::string password;
  std::chrono::milliseconds call_timeout{10000};     // deadline of each call
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds session_timeout{6000};   // asked for when the session opens
  std::chrono::milliseconds heartbeat{1000};         // period of session heartbeats
  std::uint64_t max_value = 16ull << 20;             // checked before sending
  // Reads (get, list, get_latest) are linearizable by default: the leader confirms it still
  // leads before answering. With stale_reads, whichever server the client is connected to
  // answers from its own store at once: faster, and a follower may not have applied writes
  // acknowledged a moment ago. Writes, watches and sessions always go to the leader.
  bool stale_reads = false;
  TlsConfig tls;  // TLS to the servers (PARK/TLSCA ...); off by default

  // Servers, timeouts, limits and TLS from the PARK row; user/password from the environment
  // variables FOURINONE_USER and FOURINONE_PASSWORD when set.
  static ParkOptions from_config(const Config& config);
};

struct MemberStatus {
  std::string address;
  std::string role;     // "leader", "follower", "learner", "unreachable", ...
  bool healthy = false;
  std::uint64_t match_index = 0;  // as the leader sees it: log replicated up to here
  std::uint64_t id = 0;           // the member's id in the group (never reused)
  bool voter = true;              // false: a learner, catching up before it counts
};

struct ParkStatus {
  std::string server;   // the server that answered
  std::string role;     // "leader" for a single server
  std::string leader;   // HOST:PORT
  std::uint64_t term = 0;
  std::uint64_t revision = 0;
  std::uint64_t commit_index = 0;
  std::uint64_t sessions = 0;
  std::uint64_t domains = 0;
  std::uint64_t nodes = 0;
  std::uint64_t bytes = 0;      // memory the store accounts for
  std::vector<MemberStatus> members;
};

class Park {
 public:
  using NodeCallback = std::function<void(Result<Node>)>;
  using WatchCallback = std::function<void(const WatchEvent&)>;
  // A listener gets the new node (nullptr when it was deleted) and returns true to stop.
  using Listener = std::function<bool(const Node* node)>;

  // Connects (and logs in when options.user is set). Errors: unavailable, unauthenticated.
  static Result<std::unique_ptr<Park>> connect(const ParkOptions& options);
  static Result<std::unique_ptr<Park>> connect(const Config& config);

  virtual ~Park() = default;

  // --- writes (exactly once, even when retried after a lost connection) -------------------
  // Errors: exists, bad_request (name), too_large, park_full, no_permission, session_expired.
  virtual Result<Node> create(std::string_view domain, std::string_view node, std::string_view value,
                              const CreateOptions& options = {}) = 0;
  // A node named by the park: names increase in creation order ("000...0042").
  virtual Result<Node> create_sequential(std::string_view domain, std::string_view value,
                                         const CreateOptions& options = {}) = 0;
  // Errors: not_found, bad_version (expected_version given and different), no_permission.
  // Writing the bytes the node already has is no change: same version, no event.
  virtual Result<Node> update(std::string_view domain, std::string_view node, std::string_view value,
                              std::int64_t expected_version = kAnyVersion) = 0;
  // Returns the removed node. Errors: not_found, bad_version, no_permission.
  virtual Result<Node> remove(std::string_view domain, std::string_view node,
                              std::int64_t expected_version = kAnyVersion) = 0;
  // Removes a domain with all its nodes; returns them. Allowed to the domain's creator, after
  // set_deletable, or when the caller may delete every node in it.
  virtual Result<std::vector<Node>> remove_domain(std::string_view domain) = 0;
  // Lets any client remove the whole domain. Only the domain's creator may call it.
  virtual Status set_deletable(std::string_view domain) = 0;
  virtual Result<TxnResult> commit(const Txn& txn) = 0;

  // --- reads (linearizable) ----------------------------------------------------------------
  virtual Result<Node> get(std::string_view domain, std::string_view node) = 0;
  // Every node of the domain in creation order. Errors: not_found when the domain is absent.
  virtual Result<std::vector<Node>> list(std::string_view domain) = 0;
  // The node if its version differs from old_version (0: any version), else nothing; waits
  // up to `wait` for a change before answering nothing. A missing node is also nothing.
  virtual Result<std::optional<Node>> get_latest(std::string_view domain, std::string_view node,
                                                 std::uint64_t old_version,
                                                 std::chrono::milliseconds wait = std::chrono::milliseconds(0)) = 0;
  // The domain's nodes if anything in it changed after `since_revision` (0: always), else
  // nothing (after waiting up to `wait`). A removed domain answers an empty list.
  virtual Result<std::optional<DomainSnapshot>> get_latest_domain(
      std::string_view domain, std::uint64_t since_revision,
      std::chrono::milliseconds wait = std::chrono::milliseconds(0)) = 0;

  // --- watches -----------------------------------------------------------------------------
  // Streams every change of the domain (or of one node) with revision >= from_revision
  // (0: from now on). After a lost connection it resumes from the last revision delivered;
  // if that history is gone the callback gets a resync event and should re-read.
  virtual Result<std::unique_ptr<Watch>> watch(std::string_view domain, std::optional<std::string> node,
                                               std::uint64_t from_revision, WatchCallback callback) = 0;
  // The original's LastestListener: called with each newer version of the node than
  // old_version (and with nullptr if it is deleted) until it returns true.
  virtual Result<std::unique_ptr<Watch>> add_listener(std::string_view domain, std::string_view node,
                                                      std::uint64_t old_version, Listener listener) = 0;

  // --- asynchronous forms: return at once; the callback gets the result --------------------
  virtual void async_create(std::string_view domain, std::string_view node, std::string_view value,
                            const CreateOptions& options, NodeCallback done) = 0;
  virtual void async_update(std::string_view domain, std::string_view node, std::string_view value,
                            std::int64_t expected_version, NodeCallback done) = 0;
  virtual void async_get(std::string_view domain, std::string_view node, NodeCallback done) = 0;
  virtual void async_remove(std::string_view domain, std::string_view node, std::int64_t expected_version,
                            NodeCallback done) = 0;

  // --- session -----------------------------------------------------------------------------
  // Opens the session now (the first heartbeat create does so too). After the session
  // expired, heartbeat creates fail with session_expired until this opens a new one (a new
  // id: the old heartbeat nodes are gone; create them again). Errors: unavailable.
  virtual Status open_session() = 0;
  // Ends the session: its heartbeat nodes are deleted at once.
  virtual Status close_session() = 0;
  virtual SessionState session_state() const = 0;
  virtual std::uint64_t session_id() const = 0;
  // Called on every session state change (on the callback thread).
  virtual void on_session_state(std::function<void(SessionState)> callback) = 0;

  virtual Result<ParkStatus> status() = 0;

  // --- membership (fourinone ctl member) ---------------------------------------------------
  // One server at a time. add_member puts the park server at HOST:PORT into the group as a
  // learner; the leader makes it a voter once it has caught up (watch status().members).
  // Start that server with `fourinone park --join` first or after: it waits for the leader.
  // remove_member takes a member out (the leader too: it hands over first). Both return once
  // the change is committed. When USERS are configured only PARK/ADMINS may call them.
  // Errors: exists / not_found (already in / not in the group), bad_request (the last voter,
  // a malformed address), unavailable (an earlier change is not committed yet: retry),
  // no_permission.
  virtual Status add_member(std::string_view address) = 0;
  virtual Status remove_member(std::string_view address) = 0;
  // The members as the leader sees them (status().members is the view of whichever server
  // answered: a follower's, or a removed server's, may be behind). Anyone who may log in.
  virtual Result<std::vector<MemberStatus>> members() = 0;

  // --- typed values (see value.hpp) --------------------------------------------------------
  template <class T>
    requires(!TextValue<T>)
  Result<Node> create(std::string_view domain, std::string_view node, const T& value, const CreateOptions& options = {}) {
    return create(domain, node, std::string_view(encode_value(value)), options);
  }
  template <class T>
    requires(!TextValue<T>)
  Result<Node> update(std::string_view domain, std::string_view node, const T& value,
                      std::int64_t expected_version = kAnyVersion) {
    return update(domain, node, std::string_view(encode_value(value)), expected_version);
  }
};

}  // namespace fourinone
