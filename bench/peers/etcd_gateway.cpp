// etcd through its v3 HTTP/JSON gateway (grpc-gateway in front of etcd's gRPC services on the
// client port), spoken with Boost.Beast over Boost.Asio. The etcd target (etcd_grpc_target.cpp)
// speaks gRPC and hands watches, leases and locks to this one.
//
// A connection owns an io_context run by one thread. Each request in flight has a keep-alive
// HTTP/1.1 socket of its own (Go's server does not pipeline) from a pool that grows with the
// number in flight. Requests go to the connection's current endpoint (first endpoints[index %
// n]); a connection-level failure (refused, reset, EOF) moves the connection to the next
// endpoint and retries the request there, up to twice. An answer from the server that is an
// error (HTTP status, gRPC error such as "leader changed") fails the call. Every call ends
// within kCallTimeout (lock() waits longer: it blocks until the lock is free).
//
// Keys are base64 in the gateway's JSON; 64-bit integers come back as strings. etcd omits
// fields that hold their default, so a PUT event has no "type", an empty value no "value",
// and a failed txn no "succeeded".
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <future>
#include <mutex>
#include <thread>

#include "core/base64.hpp"
#include "json.hpp"
#include "put_all.hpp"
#include "target.hpp"

namespace peers {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using json::Value;
using namespace std::chrono_literals;

constexpr auto kCallTimeout = 5s;           // one request, retries included
constexpr auto kRevokeBudget = 1s;          // for revoking the leases when a connection closes
constexpr auto kWatchReopenDelay = 200ms;   // before a broken watch stream is opened again
constexpr int kEndpointRetries = 2;         // further endpoints tried after a connection error
constexpr std::size_t kPrepareWindow = 64;  // puts in flight during prepare_keys
const std::string kKeyPrefix = "bench/";
const std::string kLockPrefix = "bench-locks/";

std::string etcd_key(const std::string& key) { return fourinone::core::encode_base64(kKeyPrefix + key); }

std::int64_t ceil_seconds(std::chrono::milliseconds ms) {
  return std::max<std::int64_t>(1, (ms.count() + 999) / 1000);
}

// The answer to one gateway request.
struct Reply {
  bool ok = false;     // HTTP 200 with a JSON body
  Value body;          // the body (of an error answer too, when it is JSON)
  std::string error;   // why not ok
};

Reply failure(std::string why) {
  Reply r;
  r.error = std::move(why);
  return r;
}

Reply make_reply(unsigned status, const std::string& text) {
  Reply r;
  auto parsed = Value::try_parse(text);
  if (parsed) r.body = std::move(*parsed);
  if (status != 200) {
    r.error = "HTTP " + std::to_string(status);
    const Value* message = r.body.find("error");
    if (message != nullptr && message->is_string()) r.error += ": " + message->as_string();
    return r;
  }
  if (!parsed) {
    r.error = "unparsable answer";
    return r;
  }
  r.ok = true;
  return r;
}

// A streamed method's answer ({"result": {...}} or {"error": {...}}): the result, or nullptr.
const Value* stream_result(const Reply& r) { return r.ok ? r.body.find("result") : nullptr; }

struct Endpoint {
  std::string name;  // HOST:PORT as given (also the Host header)
  tcp::resolver::results_type addresses;
};

struct Socket {
  Socket(asio::io_context& ioc, std::size_t ep) : stream(ioc), endpoint(ep) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::size_t endpoint;  // index into the endpoints
  bool reused = false;   // answered a request before (the server may have dropped it since)
};

struct Call {
  http::request<http::string_body> request;
  Clock::time_point deadline;
  std::function<void(Reply)> done;
  std::optional<std::size_t> pinned;  // this endpoint only, no retries
  int retries = kEndpointRetries;
  bool fresh_retry_used = false;
  bool force_fresh = false;
  std::shared_ptr<Socket> socket;
  std::optional<http::response_parser<http::string_body>> parser;
};

struct Lease {
  Lease(asio::io_context& ioc, std::int64_t lease_id, std::chrono::milliseconds every)
      : id(lease_id), interval(every), timer(ioc) {}
  const std::int64_t id;
  const std::chrono::milliseconds interval;
  asio::steady_timer timer;
  bool in_flight = false;
  std::atomic<bool> gone{false};  // expired or revoked: no longer kept alive
};

// One /v3/watch request: its socket and the parse of its never-ending chunked answer.
struct WatchStream {
  std::shared_ptr<Socket> socket;
  http::request<http::string_body> request;
  std::optional<http::response_parser<http::string_body>> parser;
  std::function<std::size_t(std::uint64_t, beast::string_view, beast::error_code&)> on_chunk;
  json::StreamSplitter splitter;
  bool created = false;  // etcd answered "created": the watch is in place
};

struct Watch {
  explicit Watch(asio::io_context& ioc) : timer(ioc) {}
  std::string key;  // the etcd key, not base64
  std::function<void(std::optional<std::string>)> on_change;
  std::function<void(bool)> on_first;  // watch() waiting for the first "created"
  Clock::time_point first_deadline;
  int first_retries = kEndpointRetries;
  bool established = false;
  bool removed = false;
  std::int64_t next_revision = 0;  // where a reopened stream resumes (0: from now)
  std::shared_ptr<WatchStream> stream;
  asio::steady_timer timer;  // creation timeout, reopen delay
};

http::request<http::string_body> make_request(std::string_view path, std::string body) {
  http::request<http::string_body> req{http::verb::post, beast::string_view(path.data(), path.size()), 11};
  req.set(http::field::content_type, "application/json");
  req.keep_alive(true);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

void close_socket(Socket& s) {
  beast::error_code ignored;
  s.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  s.stream.close();
}

// The engine of one connection: the io thread, the socket pool, leases and watches.
class Client {
 public:
  Client(std::vector<Endpoint> endpoints, std::size_t primary)
      : endpoints_(std::move(endpoints)), current_(primary % endpoints_.size()) {
    thread_ = std::thread([this] { run(); });
  }

  ~Client() {
    asio::post(ioc_, [this] { shutdown(); });
    work_.reset();
    thread_.join();
  }

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  std::size_t endpoint_count() const { return endpoints_.size(); }

  // Any thread. done runs exactly once, on the io thread.
  void submit(std::string_view path, std::string body, Clock::time_point deadline,
              std::function<void(Reply)> done, std::optional<std::size_t> pinned = std::nullopt,
              int retries = kEndpointRetries) {
    auto call = std::make_shared<Call>();
    call->request = make_request(path, std::move(body));
    call->deadline = deadline;
    call->done = std::move(done);
    call->pinned = pinned;
    call->retries = retries;
    asio::post(ioc_, [this, call] { start(call); });
  }

  // Blocking; from any thread but the io thread (a callback), which would wait for itself.
  Reply call(std::string_view path, std::string body, Clock::duration timeout = kCallTimeout,
             int retries = kEndpointRetries) {
    if (std::this_thread::get_id() == thread_.get_id()) {
      return failure("a blocking call from the connection's own callback thread");
    }
    auto promise = std::make_shared<std::promise<Reply>>();
    auto future = promise->get_future();
    submit(path, std::move(body), Clock::now() + timeout,
           [promise](Reply r) { promise->set_value(std::move(r)); }, std::nullopt, retries);
    // The io thread always answers by the deadline; the margin only guards against surprises.
    if (future.wait_for(timeout + 2s) != std::future_status::ready) return failure("no answer");
    return future.get();
  }

  // Keeps lease `id` (TTL ttl_seconds) alive from the io thread every TTL/3.
  std::shared_ptr<Lease> keep_alive(std::int64_t id, std::int64_t ttl_seconds) {
    auto lease = std::make_shared<Lease>(ioc_, id, std::chrono::milliseconds(ttl_seconds * 1000 / 3));
    asio::post(ioc_, [this, lease] {
      if (stopping_) return;
      leases_.push_back(lease);
      tick(lease);
    });
    return lease;
  }

  // Stops keeping `lease` alive and revokes it (asynchronously).
  void revoke(const std::shared_ptr<Lease>& lease) {
    asio::post(ioc_, [this, lease] { revoke_on_io(lease, Clock::now() + kCallTimeout, nullptr); });
  }

  // Revokes every lease still kept alive, waiting at most `budget` (the connection closes).
  void revoke_all(Clock::duration budget) {
    auto promise = std::make_shared<std::promise<void>>();
    auto future = promise->get_future();
    asio::post(ioc_, [this, promise, deadline = Clock::now() + budget] {
      auto remaining = std::make_shared<std::size_t>(1);
      auto settle = [promise, remaining] {
        if (--*remaining == 0) promise->set_value();
      };
      const auto leases = leases_;  // revoke_on_io takes each out of leases_
      for (const auto& lease : leases) {
        if (lease->gone) continue;
        ++*remaining;
        revoke_on_io(lease, deadline, settle);
      }
      settle();
    });
    future.wait_for(budget + 500ms);
  }

  // Watches `key` (etcd key); true once etcd confirmed the watch.
  bool watch(std::string key, std::function<void(std::optional<std::string>)> on_change) {
    if (std::this_thread::get_id() == thread_.get_id()) return false;
    auto w = std::make_shared<Watch>(ioc_);
    w->key = std::move(key);
    w->on_change = std::move(on_change);
    w->first_deadline = Clock::now() + kCallTimeout;
    auto promise = std::make_shared<std::promise<bool>>();
    auto future = promise->get_future();
    w->on_first = [promise](bool ok) { promise->set_value(ok); };
    asio::post(ioc_, [this, w] {
      if (stopping_) return w->on_first(false);
      watches_.push_back(w);
      open_watch(w);
    });
    if (future.wait_for(kCallTimeout + 2s) == std::future_status::ready && future.get()) return true;
    asio::post(ioc_, [this, w] { remove_watch(w); });
    return false;
  }

 private:
  void run() {
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {  // from a caller's callback; keep serving
        std::fprintf(stderr, "etcd target: a callback threw: %s\n", e.what());
      }
    }
  }

  // ---- requests ---------------------------------------------------------------------------

  std::shared_ptr<Socket> new_socket(std::size_t ep) {
    auto s = std::make_shared<Socket>(ioc_, ep);
    if (sockets_.size() >= 2 * live_after_purge_ + 64) {
      std::erase_if(sockets_, [](const std::weak_ptr<Socket>& w) { return w.expired(); });
      live_after_purge_ = sockets_.size();
    }
    sockets_.push_back(s);
    return s;
  }

  void switch_endpoint() {
    current_ = (current_ + 1) % endpoints_.size();
    for (auto& s : idle_) close_socket(*s);
    idle_.clear();
  }

  void start(const std::shared_ptr<Call>& call) {
    if (stopping_) return finish(call, failure("connection closed"));
    if (Clock::now() >= call->deadline) return finish(call, failure("timed out"));
    const std::size_t ep = call->pinned.value_or(current_);
    call->request.set(http::field::host, endpoints_[ep].name);
    if (!call->pinned && !call->force_fresh && !idle_.empty()) {
      call->socket = std::move(idle_.back());
      idle_.pop_back();
      return send(call);
    }
    call->force_fresh = false;
    call->socket = new_socket(ep);
    call->socket->stream.expires_at(call->deadline);
    call->socket->stream.async_connect(
        endpoints_[ep].addresses, [this, call](beast::error_code ec, const tcp::endpoint&) {
          if (ec) return failed(call, ec, "connect");
          beast::error_code ignored;
          call->socket->stream.socket().set_option(tcp::no_delay(true), ignored);
          send(call);
        });
  }

  void send(const std::shared_ptr<Call>& call) {
    Socket& s = *call->socket;
    s.stream.expires_at(call->deadline);
    http::async_write(s.stream, call->request, [this, call](beast::error_code ec, std::size_t) {
      if (ec) return failed(call, ec, "write");
      call->parser.emplace();
      http::async_read(call->socket->stream, call->socket->buffer, *call->parser,
                       [this, call](beast::error_code ec2, std::size_t) {
                         if (ec2) return failed(call, ec2, "read");
                         received(call);
                       });
    });
  }

  void received(const std::shared_ptr<Call>& call) {
    auto res = call->parser->release();
    call->parser.reset();
    auto socket = std::move(call->socket);
    socket->stream.expires_never();
    if (res.keep_alive() && !stopping_ && !call->pinned && socket->endpoint == current_) {
      socket->reused = true;
      idle_.push_back(std::move(socket));
    } else {
      close_socket(*socket);
    }
    finish(call, make_reply(res.result_int(), res.body()));
  }

  void failed(const std::shared_ptr<Call>& call, beast::error_code ec, const char* what) {
    auto socket = std::move(call->socket);
    call->parser.reset();
    close_socket(*socket);
    if (stopping_) return finish(call, failure("connection closed"));
    std::string why = std::string(what) + " " + endpoints_[socket->endpoint].name + ": " + ec.message();
    if (call->pinned) return finish(call, failure(why));
    if (ec == beast::error::timeout) {
      // Out of time, so no retry; but a member that hangs (stopped, partitioned) should not
      // get this connection's next requests either.
      if (socket->endpoint == current_) switch_endpoint();
      return finish(call, failure(why));
    }
    // A kept-alive socket may have been dropped by the server meanwhile: one more go on a new
    // one before blaming the endpoint.
    if (socket->reused && !call->fresh_retry_used) {
      call->fresh_retry_used = true;
      call->force_fresh = true;
      return start(call);
    }
    if (socket->endpoint == current_) switch_endpoint();
    if (call->retries-- > 0) return start(call);
    finish(call, failure(why));
  }

  static void finish(const std::shared_ptr<Call>& call, Reply reply) {
    auto done = std::move(call->done);
    call->done = nullptr;
    if (done) done(std::move(reply));
  }

  // ---- leases -----------------------------------------------------------------------------

  void tick(const std::shared_ptr<Lease>& lease) {
    if (stopping_) return;
    if (lease->gone) {  // expired: forget it
      std::erase(leases_, lease);
      return;
    }
    if (!lease->in_flight) {
      lease->in_flight = true;
      auto timeout = std::max<Clock::duration>(lease->interval, 1s);
      submit_on_io("/v3/lease/keepalive", R"({"ID":")" + std::to_string(lease->id) + R"("})",
                   Clock::now() + timeout, [lease](Reply r) {
                     lease->in_flight = false;
                     const Value* result = stream_result(r);
                     if (result == nullptr) return;  // not answered: again at the next tick
                     auto ttl = json::int64_field(result->find("TTL"));
                     if (!ttl || *ttl <= 0) lease->gone = true;  // expired already
                   });
    }
    lease->timer.expires_after(lease->interval);
    lease->timer.async_wait([this, lease](beast::error_code ec) {
      if (!ec) tick(lease);
    });
  }

  void revoke_on_io(const std::shared_ptr<Lease>& lease, Clock::time_point deadline,
                    std::function<void()> then) {
    lease->gone = true;
    lease->timer.cancel();
    std::erase(leases_, lease);
    submit_on_io("/v3/lease/revoke", R"({"ID":")" + std::to_string(lease->id) + R"("})", deadline,
                 [then = std::move(then)](Reply) {
                   if (then) then();
                 });
  }

  void submit_on_io(std::string_view path, std::string body, Clock::time_point deadline,
                    std::function<void(Reply)> done) {
    auto call = std::make_shared<Call>();
    call->request = make_request(path, std::move(body));
    call->deadline = deadline;
    call->done = std::move(done);
    start(call);
  }

  // ---- watches ----------------------------------------------------------------------------

  void open_watch(const std::shared_ptr<Watch>& w) {
    if (stopping_ || w->removed) return;
    auto st = std::make_shared<WatchStream>();
    st->socket = new_socket(current_);
    w->stream = st;
    Value create = Value::object();
    create.set("key", fourinone::core::encode_base64(w->key));
    if (w->next_revision > 0) create.set("start_revision", std::to_string(w->next_revision));
    Value body = Value::object();
    body.set("create_request", std::move(create));
    st->request = make_request("/v3/watch", body.dump());
    st->request.set(http::field::host, endpoints_[st->socket->endpoint].name);
    // Raw pointers: the callback lives in st, and runs only inside a read that holds st and w.
    st->on_chunk = [this, wp = w.get(), sp = st.get()](std::uint64_t, beast::string_view data,
                                                       beast::error_code& ec) -> std::size_t {
      if (!on_watch_data(*wp, *sp, std::string_view(data.data(), data.size()))) {
        ec = boost::system::errc::make_error_code(boost::system::errc::protocol_error);
      }
      return data.size();
    };

    auto deadline = Clock::now() + kCallTimeout;
    if (!w->established) deadline = std::min(deadline, w->first_deadline);
    w->timer.expires_at(deadline);
    w->timer.async_wait([this, w, st](beast::error_code ec) {
      if (ec || w->stream != st || st->created) return;
      watch_broken(w, st, "no watch created in time", true);
    });

    st->socket->stream.async_connect(
        endpoints_[st->socket->endpoint].addresses, [this, w, st](beast::error_code ec, const tcp::endpoint&) {
          if (w->stream != st) return;
          if (ec) return watch_broken(w, st, "connect: " + ec.message(), true);
          beast::error_code ignored;
          st->socket->stream.socket().set_option(tcp::no_delay(true), ignored);
          http::async_write(st->socket->stream, st->request, [this, w, st](beast::error_code ec2, std::size_t) {
            if (w->stream != st) return;
            if (ec2) return watch_broken(w, st, "write: " + ec2.message(), true);
            st->parser.emplace();
            st->parser->body_limit(boost::none);  // the answer never ends
            st->parser->on_chunk_body(st->on_chunk);
            http::async_read(st->socket->stream, st->socket->buffer, *st->parser,
                             [this, w, st](beast::error_code ec3, std::size_t) {
                               if (w->stream != st) return;
                               std::string why = ec3 ? "watch stream: " + ec3.message()
                                                     : "watch answer ended, HTTP " +
                                                           std::to_string(st->parser->get().result_int()) +
                                                           " " + st->parser->get().body();
                               watch_broken(w, st, why, false);
                             });
          });
        });
  }

  // Handles a piece of the watch stream; false ends the stream (it is then reopened).
  bool on_watch_data(Watch& w, WatchStream& st, std::string_view data) {
    try {
      st.splitter.feed(data);
      while (auto text = st.splitter.next()) {
        if (!on_watch_message(w, st, Value::parse(*text))) return false;
      }
      return true;
    } catch (const json::Error&) {
      return false;
    }
  }

  bool on_watch_message(Watch& w, WatchStream& st, const Value& message) {
    const Value* result = message.find("result");
    if (result == nullptr) return false;  // {"error": ...}
    const Value* flag = result->find("created");
    if (flag != nullptr && flag->is_bool() && flag->as_bool()) {
      st.created = true;
      w.timer.cancel();
      if (w.next_revision == 0) {
        if (auto rev = json::int64_field(result->get({"header", "revision"}))) w.next_revision = *rev + 1;
      }
      if (!w.established) {
        w.established = true;
        auto first = std::move(w.on_first);
        w.on_first = nullptr;
        if (first) first(true);
      }
    }
    if (auto compacted = json::int64_field(result->find("compact_revision")); compacted && *compacted > 0) {
      w.next_revision = std::max(w.next_revision, *compacted);
    }
    flag = result->find("canceled");
    if (flag != nullptr && flag->is_bool() && flag->as_bool()) return false;
    const Value* events = result->find("events");
    if (events == nullptr || !events->is_array()) return true;
    for (const Value& event : events->items()) {
      const Value* kv = event.find("kv");
      if (kv == nullptr) continue;
      if (auto rev = json::int64_field(kv->find("mod_revision"))) w.next_revision = *rev + 1;
      const Value* type = event.find("type");  // absent for PUT, the enum's default
      std::optional<std::string> value;
      if (type == nullptr || !type->is_string() || type->as_string() != "DELETE") {
        const Value* v = kv->find("value");  // absent for an empty value
        value = v != nullptr && v->is_string() ? fourinone::core::decode_base64(v->as_string()) : std::string();
        if (!value) return false;
      }
      if (w.removed) continue;
      try {
        w.on_change(std::move(value));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "etcd target: a watch callback threw: %s\n", e.what());
      }
    }
    return true;
  }

  void watch_broken(const std::shared_ptr<Watch>& w, const std::shared_ptr<WatchStream>& st,
                    const std::string& why, bool connection_level) {
    if (w->stream != st) return;
    w->stream.reset();
    close_socket(*st->socket);
    if (stopping_ || w->removed) return;
    if (connection_level && st->socket->endpoint == current_) switch_endpoint();
    if (!w->established) {
      if (connection_level && w->first_retries-- > 0 && Clock::now() < w->first_deadline) {
        return open_watch(w);
      }
      std::fprintf(stderr, "etcd target: watch on %s failed: %s\n", w->key.c_str(), why.c_str());
      auto first = std::move(w->on_first);
      w->on_first = nullptr;
      remove_watch(w);
      if (first) first(false);
      return;
    }
    w->timer.expires_after(kWatchReopenDelay);
    w->timer.async_wait([this, w](beast::error_code ec) {
      if (!ec) open_watch(w);
    });
  }

  void remove_watch(const std::shared_ptr<Watch>& w) {
    w->removed = true;
    w->timer.cancel();
    if (w->stream) {
      close_socket(*w->stream->socket);
      w->stream.reset();
    }
    std::erase(watches_, w);
  }

  // ---- shutdown ---------------------------------------------------------------------------

  void shutdown() {
    stopping_ = true;
    for (auto& weak : sockets_) {
      if (auto s = weak.lock()) close_socket(*s);
    }
    sockets_.clear();
    idle_.clear();
    for (auto& lease : leases_) lease->timer.cancel();
    leases_.clear();
    for (auto& w : watches_) {
      w->removed = true;
      w->timer.cancel();
    }
    watches_.clear();
  }

  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(ioc_);
  const std::vector<Endpoint> endpoints_;
  // Touched on the io thread only.
  std::size_t current_;
  bool stopping_ = false;
  std::vector<std::shared_ptr<Socket>> idle_;
  std::vector<std::weak_ptr<Socket>> sockets_;  // every socket, to close them at the end
  std::size_t live_after_purge_ = 0;
  std::vector<std::shared_ptr<Lease>> leases_;
  std::vector<std::shared_ptr<Watch>> watches_;
  std::thread thread_;  // last: starts once the rest exists
};

// ---- the Connection -------------------------------------------------------------------------

class EtcdConnection : public Connection {
 public:
  EtcdConnection(std::vector<Endpoint> endpoints, const TargetOptions& options)
      : client_(std::move(endpoints), static_cast<std::size_t>(std::max(0, options.index))),
        session_timeout_(options.session_timeout) {}

  ~EtcdConnection() override { client_.revoke_all(kRevokeBudget); }

  // A status answer from some endpoint (connect's check that the service answers).
  Reply status() {
    return client_.call("/v3/maintenance/status", "{}", kCallTimeout,
                        static_cast<int>(client_.endpoint_count()) - 1);
  }

  void async_put(const std::string& key, const std::string& value, Done done) override {
    client_.submit("/v3/kv/put", put_body(key, value), Clock::now() + kCallTimeout,
                   [done = std::move(done)](Reply r) { done(r.ok); });
  }

  void async_get(const std::string& key, bool linearizable, Done done) override {
    client_.submit("/v3/kv/range", range_body(key, linearizable), Clock::now() + kCallTimeout,
                   [done = std::move(done)](Reply r) { done(found(r)); });
  }

  bool put(const std::string& key, const std::string& value) override {
    return client_.call("/v3/kv/put", put_body(key, value)).ok;
  }

  bool create(const std::string& key, const std::string& value) override {
    return created(client_.call("/v3/kv/txn", create_body(key, value)));
  }

  void async_create(const std::string& key, const std::string& value, Done done) override {
    client_.submit("/v3/kv/txn", create_body(key, value), Clock::now() + kCallTimeout,
                   [done = std::move(done)](Reply r) { done(created(r)); });
  }

  // txn: if the key's create_revision is 0 (it does not exist), put it.
  static std::string create_body(const std::string& key, const std::string& value) {
    Value compare = Value::object();
    compare.set("key", etcd_key(key)).set("target", "CREATE").set("result", "EQUAL").set("create_revision", "0");
    Value request_put = Value::object();
    request_put.set("key", etcd_key(key)).set("value", fourinone::core::encode_base64(value));
    Value success = Value::object();
    success.set("request_put", std::move(request_put));
    Value txn = Value::object();
    txn.set("compare", Value::array().push(std::move(compare)));
    txn.set("success", Value::array().push(std::move(success)));
    return txn.dump();
  }

  static bool created(const Reply& r) {
    const Value* succeeded = r.body.find("succeeded");  // absent when false
    return r.ok && succeeded != nullptr && succeeded->is_bool() && succeeded->as_bool();
  }

  std::optional<std::string> get(const std::string& key) override {
    Reply r = client_.call("/v3/kv/range", range_body(key, true));
    if (!found(r)) return std::nullopt;
    const Value* value = r.body.find("kvs")->items()[0].find("value");  // absent when empty
    if (value == nullptr || !value->is_string()) return std::string();
    return fourinone::core::decode_base64(value->as_string());
  }

  bool prepare_keys(const std::vector<std::string>& keys, const std::string& value) override {
    return put_all(*this, keys, value, kPrepareWindow, "etcd target");
  }

  bool watch(const std::string& key, std::function<void(std::optional<std::string>)> on_change) override {
    return client_.watch(kKeyPrefix + key, std::move(on_change));
  }

  bool create_ephemeral(const std::string& key, const std::string& value,
                        std::chrono::milliseconds timeout) override {
    auto lease = grant(ceil_seconds(timeout));
    if (!lease) return false;
    Value body = Value::object();
    body.set("key", etcd_key(key)).set("value", fourinone::core::encode_base64(value)).set("lease", std::to_string(lease->id));
    if (client_.call("/v3/kv/put", body.dump()).ok) return true;
    client_.revoke(lease);
    return false;
  }

  bool lock(const std::string& name) override {
    std::lock_guard guard(lock_mu_);
    if (!lock_lease_ || lock_lease_->gone) {
      lock_lease_ = grant(ceil_seconds(session_timeout_));
      if (!lock_lease_) return false;
    }
    // etcd's v3lock service runs the recipe in the server: a key name/<lease> under the lease,
    // then wait until every key under name with a lower create revision is deleted. It blocks
    // until the lock is ours, so this call waits longer than the others; a holder that died
    // frees it when its lease expires.
    Value body = Value::object();
    body.set("name", fourinone::core::encode_base64(kLockPrefix + name)).set("lease", std::to_string(lock_lease_->id));
    auto wait = std::max<Clock::duration>(30s, 3 * session_timeout_);
    Reply r = client_.call("/v3/lock/lock", body.dump(), wait);
    const Value* key = r.body.find("key");
    if (!r.ok || key == nullptr || !key->is_string()) {
      std::fprintf(stderr, "etcd target: lock %s: %s\n", name.c_str(), r.ok ? "no key in the answer" : r.error.c_str());
      // An attempt may have left its key behind (a member died mid-wait); it is under this
      // lease, so revoking the lease frees the lock for the others.
      client_.revoke(lock_lease_);
      lock_lease_.reset();
      return false;
    }
    lock_key_ = key->as_string();
    return true;
  }

  bool unlock() override {
    std::lock_guard guard(lock_mu_);
    if (lock_key_.empty()) return false;
    Value body = Value::object();
    body.set("key", lock_key_);
    if (!client_.call("/v3/lock/unlock", body.dump()).ok) return false;
    lock_key_.clear();
    return true;
  }

 private:
  static std::string put_body(const std::string& key, const std::string& value) {
    return R"({"key":")" + etcd_key(key) + R"(","value":")" + fourinone::core::encode_base64(value) + R"("})";
  }

  static std::string range_body(const std::string& key, bool linearizable) {
    return R"({"key":")" + etcd_key(key) + (linearizable ? R"("})" : R"(","serializable":true})");
  }

  static bool found(const Reply& r) {
    const Value* kvs = r.body.find("kvs");  // absent when there is no such key
    return r.ok && kvs != nullptr && kvs->is_array() && !kvs->items().empty();
  }

  // A new lease of ttl seconds (etcd raises it to its minimum, about 2 s), kept alive.
  std::shared_ptr<Lease> grant(std::int64_t ttl) {
    Reply r = client_.call("/v3/lease/grant", R"({"TTL":")" + std::to_string(ttl) + R"(","ID":"0"})");
    auto id = json::int64_field(r.body.find("ID"));
    auto granted = json::int64_field(r.body.find("TTL"));
    if (!r.ok || !id || !granted || *granted <= 0) {
      std::fprintf(stderr, "etcd target: lease grant failed: %s\n", r.ok ? "no lease in the answer" : r.error.c_str());
      return nullptr;
    }
    return client_.keep_alive(*id, *granted);
  }

  Client client_;
  const std::chrono::milliseconds session_timeout_;
  std::mutex lock_mu_;
  std::shared_ptr<Lease> lock_lease_;
  std::string lock_key_;  // base64, as etcd named it
};

// ---- the Target -----------------------------------------------------------------------------

// HOST:PORT (or [v6]:PORT) resolved; nullopt with a message on stderr.
std::optional<std::vector<Endpoint>> resolve(const std::vector<std::string>& names) {
  if (names.empty()) {
    std::fprintf(stderr, "etcd target: no endpoints\n");
    return std::nullopt;
  }
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  std::vector<Endpoint> out;
  for (const auto& name : names) {
    auto colon = name.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == name.size()) {
      std::fprintf(stderr, "etcd target: endpoint %s is not HOST:PORT\n", name.c_str());
      return std::nullopt;
    }
    std::string host = name.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    beast::error_code ec;
    auto addresses = resolver.resolve(host, name.substr(colon + 1), ec);
    if (ec) {
      std::fprintf(stderr, "etcd target: cannot resolve %s: %s\n", name.c_str(), ec.message().c_str());
      return std::nullopt;
    }
    out.push_back(Endpoint{name, addresses});
  }
  return out;
}

class EtcdTarget : public Target {
 public:
  std::string name() const override { return "etcd"; }

  std::unique_ptr<Connection> connect(const TargetOptions& options) override {
    auto endpoints = resolve(options.endpoints);
    if (!endpoints) return nullptr;
    auto conn = std::make_unique<EtcdConnection>(std::move(*endpoints), options);
    Reply r = conn->status();
    if (!r.ok) {
      std::fprintf(stderr, "etcd target: no endpoint answers: %s\n", r.error.c_str());
      return nullptr;
    }
    return conn;
  }

  int leader_index(const std::vector<std::string>& names) override {
    auto endpoints = resolve(names);
    if (!endpoints) return -1;
    const std::size_t n = endpoints->size();
    std::mutex mu;
    std::condition_variable cv;
    std::size_t answered = 0;
    int leader = -1;
    Client client(std::move(*endpoints), 0);  // after what its callbacks use
    for (std::size_t i = 0; i < n; ++i) {
      client.submit("/v3/maintenance/status", "{}", Clock::now() + 2s, [&, i](Reply r) {
        // The member that names itself leader.
        auto self = json::uint64_field(r.body.get({"header", "member_id"}));
        auto named = json::uint64_field(r.body.find("leader"));
        std::lock_guard lock(mu);
        if (r.ok && self && named && *self != 0 && *self == *named && leader < 0) leader = static_cast<int>(i);
        ++answered;
        cv.notify_all();
      }, i);
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return answered == n; });  // each ends by its 2 s deadline
    return leader;
  }
};

}  // namespace

std::unique_ptr<Target> make_etcd_gateway_target() { return std::make_unique<EtcdTarget>(); }

}  // namespace peers
