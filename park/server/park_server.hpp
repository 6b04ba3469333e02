// ParkServer: one server of a park group — the Asio + write-ahead-log driver around the pure Store.
//
// DESIGN: one io thread owns the store, sessions, watches, the Raft core and every client
// connection (no locks on the hot path); a storage thread inside ReplicatedLog does the log
// writes and fdatasyncs. A write is answered only after a majority has it durably and it is
// applied. Reads go through ReadIndex (the leader confirms it still leads, then answers once
// applied), unless the client asks for a stale read. The leader's timers propose session
// expiry, TTL deletions and the clear task as log entries (STYLE §3): the store never reads a
// clock. start() recovers from its own files alone (snapshot + committed log entries).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "fourinone/config.hpp"
#include "fourinone/error.hpp"

namespace fourinone::park {

struct ParkServerOptions {
  Config config;
  ServerAddress self;        // where this server listens: a SERVERS entry, or any address with join
  // Join a running group (fourinone park --join) instead of starting one from PARK/SERVERS:
  // the server waits until a leader adds it (fourinone ctl member add). Ignored once the data
  // directory knows its member id.
  bool join = false;
  bool sync = true;          // fsync each batch (tests of non-durability concerns may turn it off)
  // Reach these members through another address than their SERVERS entry (a relay, a NAT),
  // by SERVERS entry. Used by the partition tests to put a cuttable relay between servers.
  std::map<ServerAddress, ServerAddress> peer_routes;
  // Where to serve the status page and /metrics (fourinone park --http); unset: this server's
  // entry of PARK/HTTP, if any. Port 0 takes any free port.
  std::optional<ServerAddress> http;
};

class ParkServer {
 public:
  // Opens the data directory, recovers, binds. Errors: config_error (self not in SERVERS,
  // without join or a member id from an earlier start), unavailable (port taken), internal
  // (storage).
  static Result<std::unique_ptr<ParkServer>> start(const ParkServerOptions& options);
  virtual ~ParkServer() = default;

  // Serves until stop(); runs the io loop on the calling thread.
  virtual void run() = 0;
  // Thread-safe and signal-safe to call from a signal_set handler; run() then returns.
  virtual void stop() = 0;
  virtual std::uint16_t port() const = 0;
  virtual std::uint16_t http_port() const = 0;  // 0 without an HTTP port
  // After run() returned: why the server stopped on its own (its log could not be written),
  // or OK for a requested stop.
  virtual Status failure() const = 0;
};

}  // namespace fourinone::park
