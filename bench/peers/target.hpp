// One coordination service as the side-by-side benchmark (peer_bench) sees it.
//
// peer_bench runs the same workloads against ZooKeeper, etcd and a park group through this
// interface, so the measuring code is one and the same; only the client underneath differs.
// Each target uses its system's own client and its system's standard way of doing the thing
// (ZooKeeper: C client, sync+get for linearizable reads, ephemeral-sequential lock recipe;
// etcd: gRPC, lease + create-revision lock (its v3lock service); park: libfourinone).
//
// Keys are short names ("k17", "f3-1042"); each target maps them into a namespace of its own
// (ZooKeeper "/bench/k17", etcd "bench/k17", park domain "bench" node "k17").
//
// Threading: a Connection's methods may be called from several threads at once. Callbacks
// (Done, watch) may run on any thread, including the caller's; they must not block for long.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace peers {

using Done = std::function<void(bool ok)>;

// One client session / connection to the service.
class Connection {
 public:
  virtual ~Connection() = default;

  // Writes value under key, which exists already (prepare_keys made it). Asynchronous:
  // returns at once; done(ok) runs when the service acknowledged it (ok) or refused/failed.
  // The caller keeps up to N calls in flight on one connection.
  virtual void async_put(const std::string& key, const std::string& value, Done done) = 0;
  // Reads key. linearizable: the system's strongest read (ZooKeeper: sync then get; etcd:
  // default range; park: default get). Otherwise its cheapest (ZooKeeper: plain get; etcd:
  // serializable; park: stale_reads). done(ok) with ok = the read succeeded and found it.
  virtual void async_get(const std::string& key, bool linearizable, Done done) = 0;

  // Creates key (which must not exist yet) with value; done(true) once acknowledged.
  virtual void async_create(const std::string& key, const std::string& value, Done done) = 0;

  // Blocking forms.
  virtual bool put(const std::string& key, const std::string& value) = 0;
  // Creates key (which must not exist yet) with value: true once acknowledged.
  virtual bool create(const std::string& key, const std::string& value) = 0;
  // Linearizable read; nullopt when absent or on error.
  virtual std::optional<std::string> get(const std::string& key) = 0;

  // Creates every key in keys (with value) if absent, so puts can update them.
  virtual bool prepare_keys(const std::vector<std::string>& keys, const std::string& value) = 0;

  // Calls on_change with the new value each time key changes, and with nullopt when it is
  // deleted, until the connection is destroyed. The watch is in place when this returns true.
  // ZooKeeper re-arms its one-shot watch after each event (that cost is part of its figure).
  virtual bool watch(const std::string& key, std::function<void(std::optional<std::string>)> on_change) = 0;

  // Creates key bound to this client's liveness (ZooKeeper ephemeral node with a session of
  // `timeout`; etcd key attached to a lease of TTL `timeout` kept alive by this connection;
  // park heartbeat node with session timeout `timeout`). The connection keeps it alive until
  // the process dies.
  virtual bool create_ephemeral(const std::string& key, const std::string& value,
                                std::chrono::milliseconds timeout) = 0;

  // The system's standard fair lock on `name` (ZooKeeper: ephemeral-sequential child, watch
  // the predecessor; etcd: lease, lowest create revision, wait for the predecessor's delete;
  // park: sequential heartbeat node, watch the predecessor). Blocks until held. One lock held
  // per connection at a time.
  virtual bool lock(const std::string& name) = 0;
  virtual bool unlock() = 0;
};

struct TargetOptions {
  std::vector<std::string> endpoints;             // client HOST:PORT of each server, in order
  std::chrono::milliseconds session_timeout{6000};  // for sessions/leases the connection opens
  int index = 0;  // the connection's number; a target may use it to spread connections
};

// A system: makes connections and answers admin questions.
class Target {
 public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;  // "zookeeper", "etcd", "park"
  // nullptr when the service cannot be reached (after logging why to stderr).
  virtual std::unique_ptr<Connection> connect(const TargetOptions& options) = 0;
  // Index into endpoints of the current leader, or -1 when none answers as leader.
  virtual int leader_index(const std::vector<std::string>& endpoints) = 0;
  // True when that one server is back in its group and serving (after a restart). By
  // default: a connection to it alone answers a linearizable read of `probe_key`.
  virtual bool serving(const std::string& endpoint, const std::string& probe_key) {
    TargetOptions one;
    one.endpoints = {endpoint};
    auto connection = connect(one);
    return connection && connection->get(probe_key).has_value();
  }
};

// Each returns nullptr with a message on stderr when the target was not built (ZooKeeper
// without libzookeeper-mt-dev, etcd without gRPC and etcd's .proto files).
std::unique_ptr<Target> make_park_target();
std::unique_ptr<Target> make_zookeeper_target();
std::unique_ptr<Target> make_etcd_target();

}  // namespace peers
