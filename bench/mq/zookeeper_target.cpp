// ZooKeeper's queue recipe as mq_bench's peer, with ZooKeeper's own C client
// (libzookeeper_mt), one session per producer or consumer.
//
// The recipe (ZooKeeper's "Recipes and Solutions", as Curator's DistributedQueue does it): a
// message is a sequential node "/mq/<channel>/msg-NNNNNNNNNN" (create SEQUENTIAL, so the
// names give the send order); a consumer lists the children (setting a child watch, which
// wakes it when the list was empty), sorts them, and takes them oldest first: get, then
// delete. The delete is the take: when it fails with "no node", another consumer took that
// message first and it is skipped. The next listing is made when the last one is used up.
//
// DESIGN: producers create asynchronously, up to mq_bench's window outstanding per session
// (ZooKeeper pipelines a session's requests). A receive sends the get and delete of up to
// `max` children at once and then waits for their answers, rather than one child at a time:
// faster for ZooKeeper than the textbook loop, so the comparison does not flatter ours. Every
// write (create, delete) is on a majority's disk before it is answered (forceSync, the default).
#include "target.hpp"

#include <iostream>

#ifdef FOURINONE_HAVE_ZOOKEEPER

// libzookeeper_mt declares its blocking calls (used here for set-up and listings) only when
// THREADED is defined, as its multi-threaded build is.
#define THREADED 1
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

namespace mqbench {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kCallTimeout = 10s;  // longest wait for a session or a batch of answers
constexpr int kSessionTimeoutMs = 6000;
const std::string kRoot = "/mq";

std::string parent_of(const std::string& channel) { return kRoot + "/" + channel; }

std::string error_text(const char* what, int rc) { return std::string("zookeeper: ") + what + ": " + zerror(rc); }

// One session. Its watcher hears session events and the child watch of a consumer's listing.
class Session {
 public:
  ~Session() {
    // Answers still due run (with ZCLOSING) inside zookeeper_close, before this goes.
    if (zh_ != nullptr) zookeeper_close(zh_);
  }

  // Opens the session; an error's text, or "" once connected.
  std::string open(const std::string& hosts) {
    zh_ = zookeeper_init(hosts.c_str(), &Session::watcher, kSessionTimeoutMs, nullptr, this, 0);
    if (zh_ == nullptr) return "zookeeper: zookeeper_init(" + hosts + ") failed";
    // As in bench/peers: by default the client resolves its host list again for almost every
    // request; our hosts are fixed addresses, so only when a connection is lost.
    zoo_set_servers_resolution_delay(zh_, -1);
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, kCallTimeout, [this] { return zoo_state(zh_) == ZOO_CONNECTED_STATE; }))
      return "zookeeper: no session with " + hosts + " within 10 s";
    return {};
  }

  zhandle_t* handle() const { return zh_; }

  // Creates a persistent node unless it exists; "" or an error's text.
  std::string ensure(const std::string& path) {
    int rc = zoo_create(zh_, path.c_str(), "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, nullptr, 0);
    return rc == ZOK || rc == ZNODEEXISTS ? std::string() : error_text(("create " + path).c_str(), rc);
  }

  // Lists path's children and sets a child watch on it; "" or an error's text.
  std::string list_and_watch(const std::string& path, std::vector<std::string>& children) {
    {
      std::lock_guard lock(mutex_);
      child_event_ = false;
    }
    String_vector names{};
    int rc = zoo_wget_children(zh_, path.c_str(), &Session::watcher, this, &names);
    if (rc != ZOK) return error_text(("get_children " + path).c_str(), rc);
    children.assign(names.data, names.data + names.count);
    deallocate_String_vector(&names);
    return {};
  }

  // Waits until the children of the watched path changed, or until `deadline`.
  void wait_for_children(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    changed_.wait_until(lock, deadline, [this] { return child_event_; });
  }

 private:
  static void watcher(zhandle_t*, int type, int, const char*, void* context) {
    auto* self = static_cast<Session*>(context);
    {
      std::lock_guard lock(self->mutex_);
      if (type == ZOO_CHILD_EVENT) self->child_event_ = true;
    }
    self->changed_.notify_all();
  }

  zhandle_t* zh_ = nullptr;
  std::mutex mutex_;
  std::condition_variable changed_;  // the session state changed, or a child event came
  bool child_event_ = false;         // guarded by mutex_
};

// A session on `endpoints` rotated by `index`, so that connections spread over the servers
// (the C client tries them in the order given once told to, see make_zookeeper_target).
std::unique_ptr<Session> open_session(const std::vector<std::string>& endpoints, int index, const std::string& channel) {
  std::string hosts;
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    if (!hosts.empty()) hosts += ',';
    hosts += endpoints[(i + static_cast<std::size_t>(index)) % endpoints.size()];
  }
  auto session = std::make_unique<Session>();
  std::string error = session->open(hosts);
  if (error.empty()) error = session->ensure(kRoot);
  if (error.empty()) error = session->ensure(parent_of(channel));
  if (!error.empty()) {
    std::cerr << error << "\n";
    return nullptr;
  }
  return session;
}

void create_done(int rc, const char*, const void* data) {
  std::unique_ptr<SendDone> done(static_cast<SendDone*>(const_cast<void*>(data)));
  (*done)(rc == ZOK, rc == ZOK ? std::string() : error_text("create", rc));
}

class ZkProducer final : public Producer {
 public:
  ZkProducer(std::unique_ptr<Session> session, const std::string& channel)
      : session_(std::move(session)), prefix_(parent_of(channel) + "/msg-") {}

  void async_send(std::string body, SendDone done) override {
    auto* held = new SendDone(std::move(done));
    int rc = zoo_acreate(session_->handle(), prefix_.c_str(), body.data(), static_cast<int>(body.size()),
                         &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL, create_done, held);
    if (rc != ZOK) {  // not queued: its completion will never run
      std::unique_ptr<SendDone> failed(held);
      (*failed)(false, error_text("create", rc));
    }
  }

 private:
  std::unique_ptr<Session> session_;
  std::string prefix_;
};

// The gets and deletes of one receive, answered on the client's completion thread.
struct Take {
  struct Slot {
    Take* take = nullptr;
    int get_rc = ZOPERATIONTIMEOUT;
    int delete_rc = ZOPERATIONTIMEOUT;
    std::string body;
  };
  explicit Take(std::size_t n) : slots(n) {
    for (Slot& s : slots) s.take = this;
  }
  void answered() {
    std::lock_guard lock(mutex);
    if (--left == 0) all.notify_all();
  }

  std::vector<Slot> slots;
  std::mutex mutex;
  std::condition_variable all;
  std::size_t left = 0;  // guarded by mutex: answers still due
};

void get_done(int rc, const char* value, int length, const Stat*, const void* data) {
  auto* slot = static_cast<Take::Slot*>(const_cast<void*>(data));
  slot->get_rc = rc;
  if (rc == ZOK && value != nullptr && length > 0) slot->body.assign(value, static_cast<std::size_t>(length));
  slot->take->answered();
}

void delete_done(int rc, const void* data) {
  auto* slot = static_cast<Take::Slot*>(const_cast<void*>(data));
  slot->delete_rc = rc;
  slot->take->answered();
}

class ZkConsumer final : public Consumer {
 public:
  ZkConsumer(std::unique_ptr<Session> session, const std::string& channel)
      : session_(std::move(session)), parent_(parent_of(channel)) {}

  std::string receive(std::size_t max, std::chrono::milliseconds wait, std::vector<std::string>& bodies) override {
    const auto deadline = Clock::now() + wait;
    for (;;) {
      if (next_ == children_.size()) {
        next_ = 0;
        children_.clear();
        if (auto error = session_->list_and_watch(parent_, children_); !error.empty()) return error;
        // Every child is "msg-" and ten digits: in name order is in send order.
        std::sort(children_.begin(), children_.end());
        if (children_.empty()) {
          if (Clock::now() >= deadline) return {};
          session_->wait_for_children(deadline);
          continue;
        }
      }
      std::size_t n = std::min(max, children_.size() - next_);
      // Heap-allocated and given up on a timeout: answers that come later still find it.
      auto take = std::make_unique<Take>(n);
      take->left = 2 * n;
      zhandle_t* zh = session_->handle();
      for (std::size_t i = 0; i < n; ++i) {
        const std::string path = parent_ + "/" + children_[next_ + i];
        Take::Slot* slot = &take->slots[i];
        if (zoo_aget(zh, path.c_str(), 0, get_done, slot) != ZOK) {
          slot->get_rc = ZSYSTEMERROR;
          take->answered();
        }
        if (zoo_adelete(zh, path.c_str(), -1, delete_done, slot) != ZOK) {
          slot->delete_rc = ZSYSTEMERROR;
          take->answered();
        }
      }
      next_ += n;
      {
        std::unique_lock lock(take->mutex);
        if (!take->all.wait_for(lock, kCallTimeout, [&] { return take->left == 0; })) {
          take.release();  // NOLINT: answers may still come; leaked on purpose
          return "zookeeper: no answer to get/delete within 10 s";
        }
      }
      for (Take::Slot& slot : take->slots) {
        if (slot.get_rc == ZNONODE || slot.delete_rc == ZNONODE) continue;  // another consumer took it
        if (slot.get_rc != ZOK) return error_text("get", slot.get_rc);
        if (slot.delete_rc != ZOK) return error_text("delete", slot.delete_rc);
        bodies.push_back(std::move(slot.body));
      }
      if (!bodies.empty() || Clock::now() >= deadline) return {};
    }
  }

  std::string ack() override { return {}; }  // the delete took it

 private:
  std::unique_ptr<Session> session_;
  std::string parent_;
  std::vector<std::string> children_;  // the last listing, sorted
  std::size_t next_ = 0;               // children_[next_] is the next to try
};

class ZkTarget final : public Target {
 public:
  explicit ZkTarget(TargetOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "zookeeper"; }

  std::string describe(Flow) const override {
    return "the sequential-node queue recipe: producers create SEQUENTIAL asynchronously, up to " +
           std::to_string(options_.window) + " outstanding per session; consumers get_children (with a watch), " +
           "sort, then get + delete up to " + std::to_string(options_.batch) +
           " children at once (pipelined), a failed delete = taken by another; fsync on (forceSync)";
  }

  std::unique_ptr<Producer> producer(Flow, const std::string& channel, int index) override {
    auto session = open_session(options_.endpoints, index, channel);
    if (!session) return nullptr;
    return std::make_unique<ZkProducer>(std::move(session), channel);
  }

  std::unique_ptr<Consumer> consumer(Flow, const std::string& channel, int index) override {
    auto session = open_session(options_.endpoints, index, channel);
    if (!session) return nullptr;
    return std::make_unique<ZkConsumer>(std::move(session), channel);
  }

 private:
  TargetOptions options_;
};

}  // namespace

std::unique_ptr<Target> make_zookeeper_target(const TargetOptions& options) {
  zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
  zoo_deterministic_conn_order(1);  // honour the rotated server order of each session
  return std::make_unique<ZkTarget>(options);
}

}  // namespace mqbench

#else  // !FOURINONE_HAVE_ZOOKEEPER

namespace mqbench {

std::unique_ptr<Target> make_zookeeper_target(const TargetOptions&) {
  std::cerr << "mq_bench: built without libzookeeper-mt-dev; the ZooKeeper target is skipped "
               "(apt-get install libzookeeper-mt-dev, then rebuild)\n";
  return nullptr;
}

}  // namespace mqbench

#endif  // FOURINONE_HAVE_ZOOKEEPER
