// One message queue as the side-by-side load generator (mq_bench) sees it.
//
// mq_bench drives our queue, Redis lists and ZooKeeper's queue recipe through this interface,
// so the measuring code (windows, counting, the check that nothing is lost, latencies) is one
// and the same; only the client underneath differs:
//   fourinone (fourinone_target.cpp): fourinone::Mq, async_send / receive / ack;
//   redis (redis_target.cpp): LPUSH pipelined, BLMPOP ... RIGHT COUNT B (BRPOP where Redis
//     has no BLMPOP), over RESP with bench/cache's StreamConnection;
//   zookeeper (zookeeper_target.cpp): sequential nodes under one parent, consumers list the
//     children, then get + delete each in order; a failed delete means another took it.
//
// A producer or consumer is one client connection (one Mq, one Redis socket, one ZooKeeper
// session). mq_bench makes them all first, then uses each from one thread of its own.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mqbench {

// What the messages go through. queue: point to point (each message to one consumer).
// topic: publish -> subscriber; our topic with one durable subscription, the peers' queue
// recipe again (Redis and ZooKeeper have no durable topic; the latency row compares
// publish -> delivery, which is what their queue gives).
enum class Flow { queue, topic };

// ok = the system holds the message (fourinone and ZooKeeper: on a majority's disk; Redis: in
// its memory); error says why not.
using SendDone = std::function<void(bool ok, const std::string& error)>;

class Producer {
 public:
  virtual ~Producer() = default;
  // Sends body; returns at once, done runs later on a thread of the client's (or, when the
  // send is refused at once, inside this call). The caller bounds the sends outstanding (its
  // window); the client may batch those that wait into one request.
  virtual void async_send(std::string body, SendDone done) = 0;
};

class Consumer {
 public:
  virtual ~Consumer() = default;
  // Takes up to `max` messages, oldest first, waiting up to `wait` for one to arrive;
  // appends their bodies to `bodies` (none: the wait ended). Returns an error's text, or ""
  // on success.
  virtual std::string receive(std::size_t max, std::chrono::milliseconds wait, std::vector<std::string>& bodies) = 0;
  // Acknowledges what the last receive returned: fourinone acks the leases; for Redis and
  // ZooKeeper taking a message removed it already, so this does nothing. "" on success.
  virtual std::string ack() = 0;
};

class Target {
 public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;  // "fourinone", "redis", "zookeeper"
  // How its clients use the system for `flow` (window, batch, commands), for the output.
  virtual std::string describe(Flow flow) const = 0;
  // nullptr, after a message on stderr, when it cannot connect. `channel` names the queue or
  // topic of one workload; `index` numbers the connection (a target may spread connections
  // over servers with it). A topic consumer subscribes before it returns, so it sees every
  // message published afterwards.
  virtual std::unique_ptr<Producer> producer(Flow flow, const std::string& channel, int index) = 0;
  virtual std::unique_ptr<Consumer> consumer(Flow flow, const std::string& channel, int index) = 0;
};

struct TargetOptions {
  std::string config;                  // fourinone: the client config.xml (PARK row)
  std::string host;                    // redis
  std::uint16_t port = 0;              // redis
  std::vector<std::string> endpoints;  // zookeeper: HOST:PORT of each server
  std::size_t window = 256;            // sends outstanding per producer (for describe)
  std::size_t batch = 64;              // messages per receive (for describe)
};

// Each returns nullptr, with a message on stderr, only when the target was not built
// (ZooKeeper without libzookeeper-mt-dev): mq_bench then exits with status 3. What cannot be
// reached or read (a server, the config) shows when producer() or consumer() returns nullptr.
std::unique_ptr<Target> make_fourinone_target(const TargetOptions& options);
std::unique_ptr<Target> make_redis_target(const TargetOptions& options);
std::unique_ptr<Target> make_zookeeper_target(const TargetOptions& options);

}  // namespace mqbench
