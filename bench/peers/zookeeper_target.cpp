// The ZooKeeper target of peer_bench: ZooKeeper's own C client (libzookeeper_mt), one session
// per Connection, and ZooKeeper's standard ways of doing things: sync + get for the latest
// value, one-shot watches re-armed after each event, ephemeral nodes, and the
// ephemeral-sequential lock recipe (wait for the immediate predecessor's deletion).
//
// Every blocking call is an asynchronous request plus a wait of at most kCallTimeout, so a
// dead server or lost connection is a failure, never a hang. The C client moves to another
// server by itself after a connection loss (requests in flight fail with ZCONNECTIONLOSS); if
// the session expires (the connection was gone longer than its timeout), the connection opens
// a new session, re-arms its watches on it, and carries on.
#include "target.hpp"

#include <iostream>

#ifdef FOURINONE_HAVE_ZOOKEEPER

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

namespace peers {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kCallTimeout = 10s;  // longest wait for one request (or for a session)
const std::string kRoot = "/bench";
const std::string kLockRoot = "/bench-locks";

std::string path_of(const std::string& key) { return kRoot + "/" + key; }

// The C client's error log, at most 3 lines per 5 s: with every server down it retries (and
// logs "connection refused") thousands of times a second per connection, and after a server
// died each connection logs its loss.
void client_log(const char* message) {
  static std::mutex mu;
  static Clock::time_point window;
  static int printed = 0;
  static long suppressed = 0;
  std::lock_guard lock(mu);
  const auto now = Clock::now();
  if (now - window >= 5s) {
    if (suppressed > 0) std::fprintf(stderr, "zookeeper client: %ld more errors suppressed\n", suppressed);
    window = now;
    printed = 0;
    suppressed = 0;
  }
  if (printed >= 3) {
    ++suppressed;
    return;
  }
  ++printed;
  std::fprintf(stderr, "%s\n", message);
}

// ---- blocking requests -----------------------------------------------------------------

// One request a caller waits for. The completion holds a reference of its own, since a caller
// that gave up waiting must not leave it a dangling pointer.
struct Call {
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  int rc = ZOPERATIONTIMEOUT;
  // Filled by the completion before finish(), read by the caller only after it saw finished.
  std::string value;                  // get: the data; create: the created path
  std::vector<std::string> children;  // get_children

  void finish(int result) {
    {
      std::lock_guard lock(mu);
      rc = result;
      finished = true;
    }
    cv.notify_all();
  }
  int wait() {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, kCallTimeout, [&] { return finished; })) return ZOPERATIONTIMEOUT;
    return rc;
  }
};
using CallPtr = std::shared_ptr<Call>;

CallPtr take_call(const void* data) {
  auto* held = static_cast<CallPtr*>(const_cast<void*>(data));
  CallPtr call = std::move(*held);
  delete held;
  return call;
}

void call_void_done(int rc, const void* data) { take_call(data)->finish(rc); }
void call_stat_done(int rc, const Stat*, const void* data) { take_call(data)->finish(rc); }
void call_string_done(int rc, const char* value, const void* data) {
  CallPtr call = take_call(data);
  if (rc == ZOK && value != nullptr) call->value = value;
  call->finish(rc);
}
void call_data_done(int rc, const char* value, int length, const Stat*, const void* data) {
  CallPtr call = take_call(data);
  if (rc == ZOK && value != nullptr && length > 0) call->value.assign(value, static_cast<size_t>(length));
  call->finish(rc);
}
void call_strings_done(int rc, const String_vector* strings, const void* data) {
  CallPtr call = take_call(data);
  if (rc == ZOK && strings != nullptr) {
    for (int32_t i = 0; i < strings->count; ++i) call->children.emplace_back(strings->data[i]);
  }
  call->finish(rc);
}

// Issues one asynchronous request (start gets the completion's data) and waits for it.
template <typename Start>
int run(const CallPtr& call, Start&& start) {
  auto* held = new CallPtr(call);
  const int rc = start(static_cast<const void*>(held));
  if (rc != ZOK) {  // not queued: the completion will never run
    delete held;
    return rc;
  }
  return call->wait();
}

// ---- asynchronous requests ---------------------------------------------------------------

Done* take_done(const void* data) { return static_cast<Done*>(const_cast<void*>(data)); }

void put_done(int rc, const Stat*, const void* data) {
  std::unique_ptr<Done> done(take_done(data));
  (*done)(rc == ZOK);
}
void create_done(int rc, const char*, const void* data) {
  std::unique_ptr<Done> done(take_done(data));
  (*done)(rc == ZOK);
}
void get_done(int rc, const char*, int, const Stat*, const void* data) {
  std::unique_ptr<Done> done(take_done(data));
  (*done)(rc == ZOK);
}

// sync then get: two completions, in that order on the completion thread; the later of the
// two (or the caller, when the get could not be queued) frees it.
struct SyncedGet {
  explicit SyncedGet(Done d) : done(std::move(d)) {}
  Done done;
  std::atomic<int> refs{2};
  std::atomic<int> sync_rc{ZOK};
};
void release(SyncedGet* s) {
  if (s->refs.fetch_sub(1) == 1) delete s;
}
void synced_sync_done(int rc, const char*, const void* data) {
  auto* s = static_cast<SyncedGet*>(const_cast<void*>(data));
  s->sync_rc = rc;
  release(s);
}
void synced_get_done(int rc, const char*, int, const Stat*, const void* data) {
  auto* s = static_cast<SyncedGet*>(const_cast<void*>(data));
  s->done(rc == ZOK && s->sync_rc == ZOK);
  release(s);
}

// ---- srvr (four-letter word) -------------------------------------------------------------

// What the server at HOST:PORT answers to "srvr"; empty when it does not (1 s per step).
std::string srvr(const std::string& endpoint) {
  const size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos) return {};
  std::string host = endpoint.substr(0, colon);
  const std::string port = endpoint.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &addresses) != 0) return {};
  std::string answer;
  for (addrinfo* ai = addresses; ai != nullptr && answer.empty(); ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    pollfd p{fd, POLLOUT, 0};
    int error = 0;
    socklen_t length = sizeof error;
    const bool connected =
        (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
         (errno == EINPROGRESS && poll(&p, 1, 1000) == 1 &&
          getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0));
    if (connected && send(fd, "srvr", 4, MSG_NOSIGNAL) == 4) {
      const auto deadline = Clock::now() + 1s;
      char buffer[4096];
      for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) break;
        p = pollfd{fd, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(left)) != 1) break;
        const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n > 0) {
          answer.append(buffer, static_cast<size_t>(n));
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          break;  // EOF: the whole answer
        }
      }
    }
    close(fd);
  }
  freeaddrinfo(addresses);
  return answer;
}

// ---- the connection ----------------------------------------------------------------------

class ZkConnection;

// One watch() registration; lives as long as its connection.
struct WatchState {
  ZkConnection* conn = nullptr;
  std::string path;
  std::function<void(std::optional<std::string>)> on_change;
  std::atomic<bool> active{true};  // false when watch() failed: stays silent
  std::atomic<bool> armed{false};  // a watch is set (or being set); false → re-arm on reconnect
  std::mutex mu;                   // guards present/mzxid
  bool present = false;            // what on_change last reported (or the initial state)
  int64_t mzxid = -1;              // zxid of the last value reported: no repeats
};

class ZkConnection final : public Connection {
 public:
  ZkConnection(std::string hosts, int timeout_ms) : hosts_(std::move(hosts)), timeout_ms_(timeout_ms) {}

  ~ZkConnection() override {
    closing_ = true;
    std::vector<zhandle_t*> handles;
    {
      std::lock_guard lock(mu_);
      handles = retired_;
      for (auto& [ms, zh] : extra_) handles.push_back(zh);
      if (zh_ != nullptr) handles.push_back(zh_);
    }
    // Outstanding completions run (with ZCLOSING) inside zookeeper_close, before the members
    // they use are destroyed.
    for (zhandle_t* zh : handles) zookeeper_close(zh);
    {
      std::lock_guard lock(fail_mu_);
      fail_stop_ = true;
    }
    fail_cv_.notify_all();
    if (fail_thread_.joinable()) fail_thread_.join();
  }

  // Opens the session; false (with a message) when there is none within kCallTimeout.
  bool start() {
    zhandle_t* zh = nullptr;
    {
      std::lock_guard lock(mu_);
      zh_ = zh = open_handle(timeout_ms_);
    }
    if (zh == nullptr) {
      std::cerr << "zookeeper: zookeeper_init(" << hosts_ << ") failed: " << std::strerror(errno) << "\n";
      return false;
    }
    const auto deadline = Clock::now() + kCallTimeout;
    {
      std::unique_lock lock(wait_mu_);
      while (zoo_state(zh) != ZOO_CONNECTED_STATE && Clock::now() < deadline) wait_cv_.wait_for(lock, 50ms);
    }
    if (zoo_state(zh) != ZOO_CONNECTED_STATE) {
      std::cerr << "zookeeper: no session with " << hosts_ << " within "
                << std::chrono::duration_cast<std::chrono::seconds>(kCallTimeout).count() << " s\n";
      return false;
    }
    if (zoo_recv_timeout(zh) != timeout_ms_) {
      std::cerr << "zookeeper: asked for a " << timeout_ms_ << " ms session, the server granted "
                << zoo_recv_timeout(zh) << " ms (bounds: 2 and 20 tickTime)\n";
    }
    return true;
  }

  zhandle_t* handle() const { return zh_.load(std::memory_order_acquire); }

  // -- Connection ------------------------------------------------------------------------

  void async_put(const std::string& key, const std::string& value, Done done) override {
    if (closing_) return done(false);
    auto* held = new Done(std::move(done));
    const std::string path = path_of(key);
    if (zoo_aset(handle(), path.c_str(), value.data(), static_cast<int>(value.size()), -1, put_done, held) != ZOK) {
      std::unique_ptr<Done> failed(held);
      fail_later(std::move(*failed));
    }
  }

  void async_create(const std::string& key, const std::string& value, Done done) override {
    if (closing_) return done(false);
    auto* held = new Done(std::move(done));
    const std::string path = path_of(key);
    if (zoo_acreate(handle(), path.c_str(), value.data(), static_cast<int>(value.size()), &ZOO_OPEN_ACL_UNSAFE,
                    ZOO_PERSISTENT, create_done, held) != ZOK) {
      std::unique_ptr<Done> failed(held);
      fail_later(std::move(*failed));
    }
  }

  void async_get(const std::string& key, bool linearizable, Done done) override {
    if (closing_) return done(false);
    const std::string path = path_of(key);
    zhandle_t* zh = handle();
    if (!linearizable) {
      auto* held = new Done(std::move(done));
      if (zoo_aget(zh, path.c_str(), 0, get_done, held) != ZOK) {
        std::unique_ptr<Done> failed(held);
        fail_later(std::move(*failed));
      }
      return;
    }
    // ZooKeeper serves a session's requests in order, so the get after the sync sees at
    // least everything the leader had committed when the sync was processed.
    auto* s = new SyncedGet(std::move(done));
    if (zoo_async(zh, path.c_str(), synced_sync_done, s) != ZOK) {
      fail_later(std::move(s->done));
      delete s;
      return;
    }
    if (zoo_aget(zh, path.c_str(), 0, synced_get_done, s) != ZOK) {
      fail_later(std::move(s->done));
      release(s);
    }
  }

  bool put(const std::string& key, const std::string& value) override {
    const std::string path = path_of(key);
    zhandle_t* zh = handle();
    return run(std::make_shared<Call>(), [&](const void* data) {
             return zoo_aset(zh, path.c_str(), value.data(), static_cast<int>(value.size()), -1, call_stat_done, data);
           }) == ZOK;
  }

  bool create(const std::string& key, const std::string& value) override {
    return create_under_root(handle(), key, value, ZOO_PERSISTENT);
  }

  std::optional<std::string> get(const std::string& key) override {
    const std::string path = path_of(key);
    zhandle_t* zh = handle();
    auto sync = std::make_shared<Call>();
    auto* sync_held = new CallPtr(sync);
    if (zoo_async(zh, path.c_str(), call_string_done, sync_held) != ZOK) {
      delete sync_held;
      return std::nullopt;
    }
    auto read = std::make_shared<Call>();
    if (run(read, [&](const void* data) { return zoo_aget(zh, path.c_str(), 0, call_data_done, data); }) != ZOK) {
      return std::nullopt;
    }
    if (sync->wait() != ZOK) return std::nullopt;  // completed before the get's: no wait
    return std::move(read->value);
  }

  bool prepare_keys(const std::vector<std::string>& keys, const std::string& value) override {
    zhandle_t* zh = handle();
    if (!ensure_node(zh, kRoot)) return false;
    // Pipelined creates, at most kWindow in flight; fails if nothing completes for kCallTimeout.
    constexpr size_t kWindow = 2000;
    struct Batch {
      std::mutex mu;
      std::condition_variable cv;
      size_t pending = 0;
      size_t failed = 0;
      Clock::time_point progress = Clock::now();
    };
    auto batch = std::make_shared<Batch>();
    const auto completion = [](int rc, const char*, const void* data) {
      auto* held = static_cast<std::shared_ptr<Batch>*>(const_cast<void*>(data));
      std::shared_ptr<Batch> b = std::move(*held);
      delete held;
      {
        std::lock_guard lock(b->mu);
        if (rc != ZOK && rc != ZNODEEXISTS) ++b->failed;
        --b->pending;
        b->progress = Clock::now();
      }
      b->cv.notify_all();
    };
    const auto wait_below = [&](size_t limit) {
      std::unique_lock lock(batch->mu);
      while (batch->pending > limit) {
        if (batch->progress + kCallTimeout < Clock::now()) return false;
        batch->cv.wait_for(lock, 100ms);
      }
      return true;
    };
    for (const std::string& key : keys) {
      if (!wait_below(kWindow - 1)) return false;
      const std::string path = path_of(key);
      auto* held = new std::shared_ptr<Batch>(batch);
      {
        std::lock_guard lock(batch->mu);
        ++batch->pending;
      }
      if (zoo_acreate(zh, path.c_str(), value.data(), static_cast<int>(value.size()), &ZOO_OPEN_ACL_UNSAFE,
                      ZOO_PERSISTENT, completion, held) != ZOK) {
        delete held;
        std::lock_guard lock(batch->mu);
        --batch->pending;
        ++batch->failed;
      }
    }
    if (!wait_below(0)) return false;
    std::lock_guard lock(batch->mu);
    return batch->failed == 0;
  }

  bool watch(const std::string& key, std::function<void(std::optional<std::string>)> on_change) override;

  bool create_ephemeral(const std::string& key, const std::string& value, std::chrono::milliseconds timeout) override {
    // The node lives as long as a session with this timeout: ours, or an extra one opened for it.
    const int ms = static_cast<int>(timeout.count());
    zhandle_t* zh = handle();
    if (ms != timeout_ms_) {
      std::lock_guard lock(mu_);
      auto it = extra_.find(ms);
      if (it == extra_.end()) {
        zhandle_t* extra = open_handle(ms);
        if (extra == nullptr) return false;
        it = extra_.emplace(ms, extra).first;
      }
      zh = it->second;
    }
    if (!create_under_root(zh, key, value, ZOO_EPHEMERAL)) return false;
    if (zoo_recv_timeout(zh) != ms) {
      std::cerr << "zookeeper: ephemeral " << key << " asked for a " << ms << " ms session, the server granted "
                << zoo_recv_timeout(zh) << " ms\n";
    }
    return true;
  }

  bool lock(const std::string& name) override;
  bool unlock() override;

 private:
  static void session_watcher(zhandle_t* zh, int type, int state, const char*, void* context) {
    if (type == ZOO_SESSION_EVENT) static_cast<ZkConnection*>(context)->on_session(zh, state);
  }
  static void lock_watcher(zhandle_t*, int type, int, const char*, void* context) {
    auto* self = static_cast<ZkConnection*>(context);
    {
      std::lock_guard lock(self->wait_mu_);
      if (type != ZOO_SESSION_EVENT) self->fired_ = true;
    }
    self->wait_cv_.notify_all();
  }

  // A request refused before it was queued (ZINVALIDSTATE while a new session replaces an
  // expired one) fails from a thread of ours, not inside the call: a caller that issues its
  // next request from done() would otherwise recurse, or spin.
  void fail_later(Done done) {
    if (closing_) {  // (a caller still issuing while the connection is destroyed)
      done(false);
      return;
    }
    {
      std::lock_guard lock(fail_mu_);
      failures_.push_back(std::move(done));
      if (!fail_thread_.joinable()) fail_thread_ = std::thread([this] { deliver_failures(); });
    }
    fail_cv_.notify_one();
  }
  void deliver_failures() {
    std::unique_lock lock(fail_mu_);
    for (;;) {
      fail_cv_.wait(lock, [&] { return fail_stop_ || !failures_.empty(); });
      if (failures_.empty()) return;  // stopping, and all delivered
      std::vector<Done> batch = std::move(failures_);
      failures_.clear();
      lock.unlock();
      for (Done& done : batch) done(false);
      std::this_thread::sleep_for(1ms);
      lock.lock();
    }
  }

  zhandle_t* open_handle(int timeout_ms) {
    zhandle_t* zh = zookeeper_init2(hosts_.c_str(), session_watcher, timeout_ms, nullptr, this, 0, client_log);
    // By default the client resolves its host list again (getaddrinfo, with a netlink query of
    // the interfaces) each time its io thread polls, i.e. for almost every request: a profile
    // of the read rows had the load generator's time in getaddrinfo and socket setup. Our hosts
    // are fixed addresses, so resolve them only when a connection is lost (-1), as a client
    // whose servers do not move between DNS names would be configured.
    if (zh != nullptr) zoo_set_servers_resolution_delay(zh, -1);
    return zh;
  }

  void on_session(zhandle_t* zh, int state);
  bool session_lost(zhandle_t* zh) const {
    const int state = zoo_state(zh);
    if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE || zh != handle()) return true;
    const int64_t since = disconnected_since_.load();
    return state != ZOO_CONNECTED_STATE && since != 0 &&
           Clock::now().time_since_epoch().count() - since > std::chrono::nanoseconds(kCallTimeout).count();
  }

  // Blocking helpers on a given handle.
  static int create_node(zhandle_t* zh, const std::string& path, const std::string& value, int mode,
                         std::string* created = nullptr) {
    auto call = std::make_shared<Call>();
    const int rc = run(call, [&](const void* data) {
      return zoo_acreate(zh, path.c_str(), value.data(), static_cast<int>(value.size()), &ZOO_OPEN_ACL_UNSAFE, mode,
                         call_string_done, data);
    });
    if (rc == ZOK && created != nullptr) *created = call->value;
    return rc;
  }
  static bool ensure_node(zhandle_t* zh, const std::string& path) {
    const int rc = create_node(zh, path, "", ZOO_PERSISTENT);
    return rc == ZOK || rc == ZNODEEXISTS;
  }
  static bool create_under_root(zhandle_t* zh, const std::string& key, const std::string& value, int mode) {
    const std::string path = path_of(key);
    int rc = create_node(zh, path, value, mode);
    if (rc == ZNONODE && ensure_node(zh, kRoot)) rc = create_node(zh, path, value, mode);
    return rc == ZOK;
  }
  static int list(zhandle_t* zh, const std::string& path, std::vector<std::string>& children) {
    auto call = std::make_shared<Call>();
    const int rc =
        run(call, [&](const void* data) { return zoo_aget_children(zh, path.c_str(), 0, call_strings_done, data); });
    if (rc == ZOK) children = std::move(call->children);
    return rc;
  }

  // Deletes a lock node we no longer want, now or (after a connection loss) on reconnect.
  void abandon(const std::string& path) {
    {
      std::lock_guard lock(mu_);
      orphans_.insert(path);
    }
    delete_orphan(handle(), path);
  }
  void delete_orphan(zhandle_t* zh, const std::string& path) {
    struct Orphan {
      ZkConnection* self;
      std::string path;
    };
    const auto completion = [](int rc, const void* data) {
      std::unique_ptr<Orphan> orphan(static_cast<Orphan*>(const_cast<void*>(data)));
      if (rc == ZOK || rc == ZNONODE) {
        std::lock_guard lock(orphan->self->mu_);
        orphan->self->orphans_.erase(orphan->path);
      }
    };
    auto* orphan = new Orphan{this, path};
    if (zoo_adelete(zh, path.c_str(), -1, completion, orphan) != ZOK) delete orphan;
  }

  const std::string hosts_;
  const int timeout_ms_;
  std::atomic<zhandle_t*> zh_{nullptr};  // the current session's handle

  std::mutex mu_;                       // guards the members below, and swapping zh_
  std::vector<zhandle_t*> retired_;     // expired sessions' handles, closed with the connection
  std::map<int, zhandle_t*> extra_;     // create_ephemeral sessions by timeout (ms)
  std::vector<std::unique_ptr<WatchState>> watches_;
  std::set<std::string> orphans_;       // lock nodes to delete once connected
  std::atomic<int64_t> disconnected_since_{0};  // steady_clock ticks; 0 while connected

  std::atomic<bool> closing_{false};  // the destructor has begun

  std::mutex fail_mu_;  // fail_later()
  std::condition_variable fail_cv_;
  std::vector<Done> failures_;
  bool fail_stop_ = false;
  std::thread fail_thread_;

  std::mutex lock_mu_;  // one lock()/unlock() at a time
  std::string lock_node_;
  std::set<std::string> ensured_;  // lock parents known to exist
  uint64_t lock_attempt_ = 0;

  std::mutex wait_mu_;  // waiting for a session, or for the lock predecessor's deletion
  std::condition_variable wait_cv_;
  bool fired_ = false;
};

// ---- watches ----------------------------------------------------------------------------

void watch_event(zhandle_t* zh, int type, int, const char*, void* context);

void report_value(WatchState* w, const char* value, int length, const Stat* stat) {
  {
    std::lock_guard lock(w->mu);
    if (w->present && stat != nullptr && stat->mzxid == w->mzxid) return;  // seen already
    w->present = true;
    w->mzxid = stat != nullptr ? stat->mzxid : -1;
  }
  w->on_change(value != nullptr && length > 0 ? std::string(value, static_cast<size_t>(length)) : std::string());
}
void report_absent(WatchState* w) {
  {
    std::lock_guard lock(w->mu);
    if (!w->present) return;
    w->present = false;
  }
  w->on_change(std::nullopt);
}

void watch_exists_done(int rc, const Stat*, const void* data);
void watch_data_done(int rc, const char* value, int length, const Stat* stat, const void* data) {
  auto* w = static_cast<WatchState*>(const_cast<void*>(data));
  if (rc == ZCLOSING || !w->active) return;
  zhandle_t* zh = w->conn->handle();
  if (rc == ZOK) {
    report_value(w, value, length, stat);
  } else if (rc == ZNONODE) {  // deleted before we read it: no watch was set; watch for its creation
    report_absent(w);
    w->armed = zoo_awexists(zh, w->path.c_str(), watch_event, w, watch_exists_done, w) == ZOK;
  } else {
    w->armed = false;  // re-armed when the session is connected again
  }
}
void arm_get(WatchState* w, zhandle_t* zh) {
  w->armed = true;
  if (zoo_awget(zh, w->path.c_str(), watch_event, w, watch_data_done, w) != ZOK) w->armed = false;
}
void watch_exists_done(int rc, const Stat*, const void* data) {
  auto* w = static_cast<WatchState*>(const_cast<void*>(data));
  if (rc == ZCLOSING || !w->active) return;
  if (rc == ZOK) {
    arm_get(w, w->conn->handle());  // (re)created meanwhile: read it (the same watcher is kept once)
  } else if (rc != ZNONODE) {
    w->armed = false;
  }
}
// One-shot watch fired: read the new state and set the next watch with the same request.
void watch_event(zhandle_t* zh, int type, int, const char*, void* context) {
  auto* w = static_cast<WatchState*>(context);
  if (type == ZOO_SESSION_EVENT || !w->active || zh != w->conn->handle()) return;
  if (type == ZOO_DELETED_EVENT) {
    report_absent(w);
    w->armed = true;
    if (zoo_awexists(zh, w->path.c_str(), watch_event, w, watch_exists_done, w) != ZOK) w->armed = false;
  } else {
    arm_get(w, zh);
  }
}

// The first get/exists of watch(): records the initial state, then wakes the caller.
struct FirstRead {
  WatchState* w;
  CallPtr call;
};
void first_data_done(int rc, const char*, int, const Stat* stat, const void* data) {
  std::unique_ptr<FirstRead> first(static_cast<FirstRead*>(const_cast<void*>(data)));
  if (rc == ZOK) {
    std::lock_guard lock(first->w->mu);
    first->w->present = true;
    first->w->mzxid = stat != nullptr ? stat->mzxid : -1;
  }
  first->call->finish(rc);
}
void first_exists_done(int rc, const Stat* stat, const void* data) {
  std::unique_ptr<FirstRead> first(static_cast<FirstRead*>(const_cast<void*>(data)));
  {
    std::lock_guard lock(first->w->mu);
    first->w->present = rc == ZOK;
    first->w->mzxid = rc == ZOK && stat != nullptr ? stat->mzxid : -1;
  }
  first->call->finish(rc);
}

bool ZkConnection::watch(const std::string& key, std::function<void(std::optional<std::string>)> on_change) {
  auto owned = std::make_unique<WatchState>();
  WatchState* w = owned.get();
  w->conn = this;
  w->path = path_of(key);
  w->on_change = std::move(on_change);
  w->armed = true;
  {
    std::lock_guard lock(mu_);
    watches_.push_back(std::move(owned));
  }
  zhandle_t* zh = handle();
  const auto first = [&](bool exists) {
    auto call = std::make_shared<Call>();
    auto* held = new FirstRead{w, call};
    const int rc = exists ? zoo_awexists(zh, w->path.c_str(), watch_event, w, first_exists_done, held)
                          : zoo_awget(zh, w->path.c_str(), watch_event, w, first_data_done, held);
    if (rc != ZOK) {
      delete held;
      return rc;
    }
    return call->wait();
  };
  int rc = first(false);
  if (rc == ZNONODE) {  // absent: an exists watch tells us when it is created
    rc = first(true);
    if (rc == ZNONODE) rc = ZOK;
  }
  if (rc != ZOK) {
    w->active = false;
    w->armed = false;
    return false;
  }
  return true;
}

// ---- session events ---------------------------------------------------------------------

void ZkConnection::on_session(zhandle_t* zh, int state) {
  std::vector<WatchState*> rearm;
  std::vector<std::string> orphans;
  zhandle_t* current = nullptr;
  {
    std::lock_guard lock(mu_);
    if (zh != zh_ || closing_) return;  // an extra (ephemeral) or retired session, or closing
    if (state == ZOO_CONNECTED_STATE) {
      disconnected_since_ = 0;
      for (auto& w : watches_) {
        if (w->active && !w->armed) rearm.push_back(w.get());
      }
      orphans.assign(orphans_.begin(), orphans_.end());
    } else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
      // This handle is dead for good: continue on a new session. Its watches and ephemeral
      // nodes are gone; the watches are re-armed when the new session is connected.
      if (zhandle_t* fresh = open_handle(timeout_ms_)) {
        retired_.push_back(zh);
        zh_ = fresh;
        for (auto& w : watches_) w->armed = false;
      }
      if (disconnected_since_ == 0) disconnected_since_ = Clock::now().time_since_epoch().count();
    } else if (disconnected_since_ == 0) {
      disconnected_since_ = Clock::now().time_since_epoch().count();
    }
    current = zh_;
  }
  for (WatchState* w : rearm) arm_get(w, current);
  for (const std::string& path : orphans) delete_orphan(current, path);
  {
    std::lock_guard lock(wait_mu_);
    if (state == ZOO_CONNECTED_STATE) fired_ = true;  // a lock waiter re-lists after a reconnect
  }
  wait_cv_.notify_all();
}

// ---- lock recipe -------------------------------------------------------------------------

// Sequence number of a "lock-<session>-<attempt>-NNNNNNNNNN" child (-1 if not one).
long long sequence_of(const std::string& child) {
  if (child.rfind("lock-", 0) != 0 || child.size() < 15) return -1;
  const std::string digits = child.substr(child.size() - 10);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return -1;
  return std::stoll(digits);
}

bool ZkConnection::lock(const std::string& name) {
  std::lock_guard guard(lock_mu_);
  if (!lock_node_.empty()) return false;  // one lock per connection
  zhandle_t* zh = handle();
  const std::string parent = kLockRoot + "/" + name;
  if (ensured_.count(parent) == 0) {  // once per connection and lock name
    if (!ensure_node(zh, kLockRoot) || !ensure_node(zh, parent)) return false;
    ensured_.insert(parent);
  }

  // The session id and an attempt number in the name let us find our node after a connection
  // loss hid whether the create happened.
  char prefix[64];
  std::snprintf(prefix, sizeof prefix, "lock-%llx-%llu-",
                static_cast<unsigned long long>(zoo_client_id(zh)->client_id),
                static_cast<unsigned long long>(++lock_attempt_));
  std::string mine;
  int rc = create_node(zh, parent + "/" + prefix, "", ZOO_EPHEMERAL_SEQUENTIAL, &mine);
  if (rc == ZNONODE) {  // the parent went away since we made it
    ensured_.erase(parent);
    if (!ensure_node(zh, kLockRoot) || !ensure_node(zh, parent)) return false;
    ensured_.insert(parent);
    rc = create_node(zh, parent + "/" + prefix, "", ZOO_EPHEMERAL_SEQUENTIAL, &mine);
  }
  if (rc != ZOK) {
    if (rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT) {
      const auto deadline = Clock::now() + kCallTimeout;
      while (Clock::now() < deadline && !session_lost(zh)) {
        std::vector<std::string> children;
        const int list_rc = list(zh, parent, children);
        if (list_rc == ZOK) {
          for (const std::string& child : children) {
            if (child.rfind(prefix, 0) == 0) abandon(parent + "/" + child);
          }
          break;
        }
        if (list_rc != ZCONNECTIONLOSS) break;
        std::this_thread::sleep_for(100ms);
      }
    }
    return false;
  }
  const std::string my_name = mine.substr(parent.size() + 1);
  const long long my_sequence = sequence_of(my_name);

  for (;;) {
    std::vector<std::string> children;
    if (list(zh, parent, children) != ZOK) break;
    // The child just below ours, if any.
    std::string predecessor;
    long long predecessor_sequence = -1;
    bool found = false;
    for (const std::string& child : children) {
      const long long sequence = sequence_of(child);
      if (child == my_name) found = true;
      if (sequence >= 0 && sequence < my_sequence && sequence > predecessor_sequence) {
        predecessor_sequence = sequence;
        predecessor = child;
      }
    }
    if (!found) break;  // our session expired with it
    if (predecessor.empty()) {
      lock_node_ = mine;
      return true;
    }
    {
      std::lock_guard lock(wait_mu_);
      fired_ = false;
    }
    const std::string path = parent + "/" + predecessor;
    const int exists_rc = run(std::make_shared<Call>(), [&](const void* data) {
      return zoo_awexists(zh, path.c_str(), lock_watcher, this, call_stat_done, data);
    });
    if (exists_rc == ZNONODE) continue;  // gone already: look again
    if (exists_rc != ZOK) break;
    std::unique_lock lock(wait_mu_);
    bool lost = false;
    while (!fired_ && !(lost = session_lost(zh))) wait_cv_.wait_for(lock, 200ms);
    if (lost) break;
  }
  abandon(mine);
  return false;
}

bool ZkConnection::unlock() {
  std::lock_guard guard(lock_mu_);
  if (lock_node_.empty()) return false;
  const std::string node = std::exchange(lock_node_, {});
  const auto deadline = Clock::now() + kCallTimeout;
  for (bool retry = false;; retry = true) {
    zhandle_t* zh = handle();
    const int rc = run(std::make_shared<Call>(), [&](const void* data) {
      return zoo_adelete(zh, node.c_str(), -1, call_void_done, data);
    });
    if (rc == ZOK || (rc == ZNONODE && retry)) return true;  // (a retry may find our own delete done)
    if (rc != ZCONNECTIONLOSS || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(100ms);
  }
  abandon(node);
  return false;
}

// ---- target ------------------------------------------------------------------------------

class ZkTarget final : public Target {
 public:
  std::string name() const override { return "zookeeper"; }

  std::unique_ptr<Connection> connect(const TargetOptions& options) override {
    if (options.endpoints.empty()) {
      std::cerr << "zookeeper: no endpoints\n";
      return nullptr;
    }
    // The client tries the servers in the order given (deterministic order is set below),
    // so rotating the list by the connection's index spreads connections over the servers.
    std::string hosts;
    const size_t n = options.endpoints.size();
    for (size_t i = 0; i < n; ++i) {
      if (!hosts.empty()) hosts += ',';
      hosts += options.endpoints[(i + static_cast<size_t>(std::max(options.index, 0))) % n];
    }
    // With every server down the C client retries thousands of times a second for the whole
    // wait; a server process answers "srvr" (even when not serving yet), so ask first.
    if (std::none_of(options.endpoints.begin(), options.endpoints.end(),
                     [](const std::string& endpoint) { return !srvr(endpoint).empty(); })) {
      std::cerr << "zookeeper: no server answers at " << hosts << "\n";
      return nullptr;
    }
    auto connection = std::make_unique<ZkConnection>(hosts, static_cast<int>(options.session_timeout.count()));
    if (!connection->start()) return nullptr;
    return connection;
  }

  // A restarted server answers "srvr" with its mode only once it has rejoined the ensemble
  // and serves; until then, a session with it alone would keep the C client retrying for the
  // whole connect wait. Then, as by default, a linearizable read through it alone.
  bool serving(const std::string& endpoint, const std::string& probe_key) override {
    const std::string answer = srvr(endpoint);
    if (answer.find("Mode: leader") == std::string::npos && answer.find("Mode: follower") == std::string::npos &&
        answer.find("Mode: standalone") == std::string::npos) {
      return false;
    }
    return Target::serving(endpoint, probe_key);
  }

  int leader_index(const std::vector<std::string>& endpoints) override {
    for (size_t i = 0; i < endpoints.size(); ++i) {
      const std::string answer = srvr(endpoints[i]);
      if (answer.find("Mode: leader") != std::string::npos || answer.find("Mode: standalone") != std::string::npos) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }
};

}  // namespace

std::unique_ptr<Target> make_zookeeper_target() {
  static std::once_flag once;
  std::call_once(once, [] {
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);  // the C client's log (client_log): errors only
    zoo_deterministic_conn_order(1);          // honour our rotated server order
  });
  return std::make_unique<ZkTarget>();
}

}  // namespace peers

#else  // !FOURINONE_HAVE_ZOOKEEPER

namespace peers {

std::unique_ptr<Target> make_zookeeper_target() {
  std::cerr << "peer_bench: built without libzookeeper-mt-dev; the ZooKeeper target is skipped "
               "(apt-get install libzookeeper-mt-dev, then rebuild)\n";
  return nullptr;
}

}  // namespace peers

#endif  // FOURINONE_HAVE_ZOOKEEPER
