// One cache system as the side-by-side load generator (cache_bench) sees it.
//
// cache_bench drives Redis, memcached and our cache through this interface, so the measuring
// code is one and the same for all three; only the client underneath differs. Each target
// speaks its system's own protocol with the same pipelining: Redis RESP (resp_target.cpp),
// memcached's text protocol (memcached_target.cpp), our cache's client library
// (fourinone_target.cpp).
//
// Threading: one batch at a time per Connection; different connections may be used from
// different threads at once. `done` may run on any thread, never inside async_batch itself
// (so a chain of batches does not grow the stack), and must not block for long.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace cachebench {

// One operation of a batch. The value of a SET is the batch's shared value (cache_bench's
// --value-size bytes), so ops carry no payload of their own.
struct Op {
  bool is_set = false;
  std::string key;
};

// What a batch came to, handed to its done callback.
struct BatchResult {
  std::size_t ok = 0;      // GETs that found their key, SETs the server stored
  std::size_t errors = 0;  // ops answered with an error, or not answered (connection lost)
  std::string error;       // the first error's text when errors > 0, for the message
};
using BatchDone = std::function<void(const BatchResult&)>;

// One client connection.
class Connection {
 public:
  virtual ~Connection() = default;

  // Sends every op of `ops` pipelined (in one write when the protocol allows) and calls
  // done once every reply arrived, or once the connection failed (errors then counts the ops
  // left unanswered). GET misses are not errors. `ops` and `value` must stay alive and
  // unchanged until done runs.
  // REQUIRES: no batch of this connection is pending.
  virtual void async_batch(const std::vector<Op>& ops, const std::string& value, BatchDone done) = 0;
};

class Target {
 public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;  // "redis", "memcached", "fourinone"
  // Opens connection number `index` (blocking). nullptr, after a message on stderr, when the
  // server cannot be reached. A connection must be destroyed before its target, and (for the
  // Asio targets) while no batch is pending or after the io_context stopped running.
  virtual std::unique_ptr<Connection> connect(int index) = 0;
};

// Asio targets: their connections run their I/O on `io`, which the caller runs on its
// threads and keeps alive longer than the target and its connections.
std::unique_ptr<Target> make_redis_target(boost::asio::io_context& io, const std::string& host, std::uint16_t port);
std::unique_ptr<Target> make_memcached_target(boost::asio::io_context& io, const std::string& host,
                                              std::uint16_t port);
// Our cache through its client library (fourinone_target.cpp), configured by the client
// config.xml at config_path; `connections` is cache_bench's --connections, so the library
// opens as many sockets as the other targets do. nullptr, after a message on stderr, when it
// cannot be set up. Its connections share the library's own threads, not an io_context here.
// Our cache at the wire (wire_target.cpp): frames by hand to the one group's primary, no
// client library; the servers' cost alone, like the two peers' targets.
std::unique_ptr<Target> make_fourinone_wire_target(boost::asio::io_context& io, const std::string& config_path);
std::unique_ptr<Target> make_fourinone_target(const std::string& config_path, int connections);

}  // namespace cachebench
