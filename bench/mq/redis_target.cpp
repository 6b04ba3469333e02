// Redis lists as mq_bench's peer: LPUSH to send, a blocking pop from the other end to
// receive, each producer and consumer on a socket of its own, all on one io thread (as
// cache_bench drives Redis). Redis keeps the lists in memory only (mq.sh starts it with
// --save '' --appendonly no), and a pop removes the message: there is no ack to send.
//
// DESIGN: the sockets are bench/cache's StreamConnection (one batch of pipelined commands at a
// time, replies parsed with bench/cache/resp.hpp). A producer sends every message waiting for
// it as one batch of LPUSHes in one write; the messages its window lets through meanwhile wait
// and go as the next batch once the replies are in, as our client batches the sends made
// while earlier ones travel. A consumer's receive is one BLMPOP <wait> 1 <list> RIGHT COUNT <max>
// (Redis 7), or BRPOP when the server has no BLMPOP or for the latency row (one message at a
// time, as the issue asks); RIGHT because LPUSH adds on the left, so the oldest go first.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>
#include <utility>

#include "bench/cache/resp.hpp"
#include "bench/cache/stream_connection.hpp"
#include "target.hpp"

namespace mqbench {
namespace {

namespace asio = boost::asio;
using cachebench::BatchResult;
using cachebench::Op;
using cachebench::Reply;
using cachebench::ReplyKind;

std::string list_of(const std::string& channel) { return "mq:" + channel; }

// LPUSH for StreamConnection: each Op's key carries a message body, the batch's value is the
// list's name (StreamConnection's batch has a per-op key and one shared value).
struct Push {
  static constexpr std::string_view kSurplus = "more replies than LPUSHes";

  void append_request(const Op& op, const std::string& list, std::string& out) {
    out += "*3\r\n$5\r\nLPUSH\r\n";
    cachebench::resp::append_bulk(out, list);
    cachebench::resp::append_bulk(out, op.key);
  }
  std::ptrdiff_t parse_reply(std::string_view in, Reply& reply) { return cachebench::resp::parse(in, reply); }
};

// What a consumer's pop sends and what it got back.
struct PopState {
  std::string command;              // the whole RESP request
  std::vector<std::string> bodies;  // the messages of the last reply
};

// BLMPOP / BRPOP for StreamConnection: the request is the consumer's, the reply's bulk strings
// after the first (the list's name, in both commands' replies) are the messages.
struct Pop {
  static constexpr std::string_view kSurplus = "more replies than pops";
  PopState* state = nullptr;

  void append_request(const Op&, const std::string&, std::string& out) { out += state->command; }
  std::ptrdiff_t parse_reply(std::string_view in, Reply& reply) {
    std::vector<std::string_view> bulks;
    std::ptrdiff_t used = cachebench::resp::parse_with_arrays(in, reply, bulks);
    if (used > 0 && reply.kind == ReplyKind::ok) {
      for (std::size_t i = 1; i < bulks.size(); ++i) state->bodies.emplace_back(bulks[i]);
    }
    return used;
  }
};

// Runs one batch on the io thread and waits for its result (a consumer's blocking call).
BatchResult run_batch(asio::io_context& io, cachebench::Connection& connection, const std::vector<Op>& ops,
                      const std::string& value) {
  std::promise<BatchResult> result;
  asio::post(io, [&] { connection.async_batch(ops, value, [&](const BatchResult& r) { result.set_value(r); }); });
  return result.get_future().get();
}

// Returns once the io thread finished what it was running: the handler that completed a
// connection's last batch may still be on its stack when the waiter wakes, and the connection
// must not go before that handler returned.
void wait_io_idle(asio::io_context& io) {
  std::promise<void> reached;
  asio::post(io, [&] { reached.set_value(); });
  reached.get_future().wait();
}

class RedisProducer final : public Producer {
 public:
  RedisProducer(asio::io_context& io, std::unique_ptr<cachebench::Connection> connection, std::string list)
      : io_(io), connection_(std::move(connection)), list_(std::move(list)) {}

  ~RedisProducer() override {
    // mq_bench waits for every send before it drops a producer; a batch still out here would
    // call into freed memory, so wait for it (bounded: the connection fails if Redis is gone).
    {
      std::unique_lock lock(mutex_);
      idle_.wait(lock, [this] { return !in_flight_; });
    }
    wait_io_idle(io_);
  }

  void async_send(std::string body, SendDone done) override {
    std::lock_guard lock(mutex_);
    waiting_.push_back({false, std::move(body)});
    waiting_done_.push_back(std::move(done));
    if (in_flight_) return;  // goes with the next batch
    in_flight_ = true;
    asio::post(io_, [this] { start(); });
  }

 private:
  // io thread: the messages waiting become the batch in flight.
  void start() {
    {
      std::lock_guard lock(mutex_);
      ops_.swap(waiting_);
      dones_.swap(waiting_done_);
      waiting_.clear();
      waiting_done_.clear();
    }
    connection_->async_batch(ops_, list_, [this](const BatchResult& r) { finished(r); });
  }

  void finished(const BatchResult& r) {
    // The batch's replies say how many failed, not which: any error fails them all, which
    // can make mq_bench count a stored message as not sent, never a lost one as sent.
    for (auto& done : dones_) done(r.errors == 0, r.error);
    std::lock_guard lock(mutex_);
    if (waiting_.empty()) {
      in_flight_ = false;
      idle_.notify_all();
      return;
    }
    asio::post(io_, [this] { start(); });
  }

  asio::io_context& io_;
  std::unique_ptr<cachebench::Connection> connection_;
  std::string list_;
  std::mutex mutex_;
  std::condition_variable idle_;
  std::vector<Op> waiting_;            // guarded by mutex_: the next batch
  std::vector<SendDone> waiting_done_;  // guarded by mutex_
  bool in_flight_ = false;             // guarded by mutex_: a batch is out (or posted)
  std::vector<Op> ops_;                // io thread: the batch in flight
  std::vector<SendDone> dones_;        // io thread
};

class RedisConsumer final : public Consumer {
 public:
  RedisConsumer(asio::io_context& io, std::unique_ptr<PopState> state,
                std::unique_ptr<cachebench::Connection> connection, std::string list, bool blmpop)
      : io_(io), state_(std::move(state)), connection_(std::move(connection)), list_(std::move(list)), blmpop_(blmpop) {}
  ~RedisConsumer() override { wait_io_idle(io_); }

  std::string receive(std::size_t max, std::chrono::milliseconds wait, std::vector<std::string>& bodies) override {
    // Redis takes the wait in seconds, fractions allowed (since 6.0); 0 would mean forever.
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.3f", std::max<double>(0.001, static_cast<double>(wait.count()) / 1000));
    std::string& c = state_->command;
    c.clear();
    namespace resp = cachebench::resp;
    if (blmpop_ && max > 1) {
      c += "*7\r\n$6\r\nBLMPOP\r\n";
      resp::append_bulk(c, seconds);
      resp::append_bulk(c, "1");
      resp::append_bulk(c, list_);
      resp::append_bulk(c, "RIGHT");
      resp::append_bulk(c, "COUNT");
      resp::append_bulk(c, std::to_string(max));
    } else {
      c += "*3\r\n$5\r\nBRPOP\r\n";
      resp::append_bulk(c, list_);
      resp::append_bulk(c, seconds);
    }
    state_->bodies.clear();
    BatchResult r = run_batch(io_, *connection_, one_, {});
    if (r.errors > 0) return r.error.empty() ? "redis: the pop failed" : "redis: " + r.error;
    for (auto& body : state_->bodies) bodies.push_back(std::move(body));
    return {};
  }

  std::string ack() override { return {}; }  // the pop removed them

 private:
  asio::io_context& io_;
  std::unique_ptr<PopState> state_;  // before connection_, whose Pop points at it
  std::unique_ptr<cachebench::Connection> connection_;
  std::string list_;
  bool blmpop_;
  std::vector<Op> one_{Op{}};  // a batch of one pop
};

class RedisTarget final : public Target {
 public:
  explicit RedisTarget(TargetOptions options) : options_(std::move(options)), work_(asio::make_work_guard(io_)) {
    thread_ = std::thread([this] { io_.run(); });
  }

  ~RedisTarget() override {
    work_.reset();
    thread_.join();
  }

  std::string name() const override { return "redis"; }

  std::string describe(Flow flow) const override {
    std::string pop = flow == Flow::topic ? "BRPOP (one message a call)"
                      : blmpop_         ? "BLMPOP ... RIGHT COUNT " + std::to_string(options_.batch)
                                        : "BRPOP (one message a call: this Redis has no BLMPOP)";
    return "LPUSH pipelined, up to " + std::to_string(options_.window) + " outstanding per producer, one batch " +
           "per round trip; consumers " + pop + "; memory only, no ack (the pop removes the message)";
  }

  std::unique_ptr<Producer> producer(Flow, const std::string& channel, int) override {
    auto socket = cachebench::open_socket(io_, "redis", options_.host, options_.port);
    if (!socket) return nullptr;
    auto connection = std::make_unique<cachebench::StreamConnection<Push>>(std::move(*socket));
    return std::make_unique<RedisProducer>(io_, std::move(connection), list_of(channel));
  }

  std::unique_ptr<Consumer> consumer(Flow flow, const std::string& channel, int) override {
    auto socket = cachebench::open_socket(io_, "redis", options_.host, options_.port);
    if (!socket) return nullptr;
    auto state = std::make_unique<PopState>();
    auto connection = std::make_unique<cachebench::StreamConnection<Pop>>(std::move(*socket), Pop{state.get()});
    bool blmpop = flow == Flow::queue && probe_blmpop(*state, *connection);
    return std::make_unique<RedisConsumer>(io_, std::move(state), std::move(connection), list_of(channel), blmpop);
  }

 private:
  // Whether this Redis has BLMPOP (7.0 and later), found once, on the first queue consumer's
  // connection: a BLMPOP with a 1 ms wait on a list nobody uses. Without it every queue
  // consumer uses BRPOP.
  bool probe_blmpop(PopState& state, cachebench::Connection& connection) {
    std::lock_guard lock(probe_mutex_);
    if (probed_) return blmpop_;
    probed_ = true;
    state.command.clear();
    state.command += "*7\r\n$6\r\nBLMPOP\r\n";
    for (std::string_view arg : {"0.001", "1", "mq:probe", "RIGHT", "COUNT", "2"}) cachebench::resp::append_bulk(state.command, arg);
    BatchResult r = run_batch(io_, connection, {Op{}}, {});
    if (r.errors > 0) {
      blmpop_ = false;
      std::cerr << "redis: BLMPOP answered '" << r.error << "': consumers use BRPOP, one message a call\n";
    }
    return blmpop_;
  }

  TargetOptions options_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::mutex probe_mutex_;
  bool probed_ = false;
  bool blmpop_ = true;  // guarded by probe_mutex_ until probed_; read by describe() after
};

}  // namespace

std::unique_ptr<Target> make_redis_target(const TargetOptions& options) {
  return std::make_unique<RedisTarget>(options);
}

}  // namespace mqbench
