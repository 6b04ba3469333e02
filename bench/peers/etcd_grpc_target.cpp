// The etcd target of peer_bench: etcd's native gRPC API, as its own Go client (clientv3)
// speaks it, from C++ generated at build time out of etcd's .proto files (bench/CMakeLists.txt,
// etcd_protos.sh).
//
// A connection is one gRPC channel (one HTTP/2 connection, many calls multiplexed on it) and
// one completion queue drained by one thread of ours: asynchronous calls cost no thread each,
// and their completions run on that thread. The channel lists the three members, rotated by
// the connection's index, under gRPC's pick_first policy: it talks to the first that answers
// and moves to the next one when that member goes away (what failover needs), like clientv3.
// Every call has a deadline of kCallTimeout (a lock waits longer: it blocks until free).
//
// Puts, reads, creates (a txn on create_revision == 0) and the leader question are unary
// calls; watches and leases kept alive are streams with a thread each (etcd_grpc_streams.cpp);
// the lock is etcd's v3lock service, which runs etcd's recipe (a key under the caller's lease,
// wait for the lower create revisions to go) inside the server: one call per acquire.
#include "target.hpp"

#include <iostream>

#ifdef FOURINONE_HAVE_ETCD_GRPC

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "etcd/etcdserver/api/v3lock/v3lockpb/v3lock.grpc.pb.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "etcd_grpc_streams.hpp"
#include "put_all.hpp"

namespace peers {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace pb = etcdserverpb;

constexpr auto kCallTimeout = 5s;
constexpr std::size_t kPrepareWindow = 64;  // puts in flight during prepare_keys
const std::string kKeyPrefix = "bench/";
const std::string kLockPrefix = "bench-locks/";

std::int64_t ceil_seconds(std::chrono::milliseconds ms) {
  return std::max<std::int64_t>(1, (ms.count() + 999) / 1000);
}

// A channel to the members in `endpoints`, first `first`, then the others in order.
std::shared_ptr<grpc::Channel> open_channel(const std::vector<std::string>& endpoints, std::size_t first) {
  std::string target = "ipv4:";
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    target += (i ? "," : "") + endpoints[(first + i) % endpoints.size()];
  }
  grpc::ChannelArguments args;
  // gRPC shares one TCP connection between channels with the same target and arguments;
  // each of our connections is a client of its own, so it gets its own.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetLoadBalancingPolicyName("pick_first");
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

void set_deadline(grpc::ClientContext& context, Clock::duration timeout = kCallTimeout) {
  context.set_deadline(std::chrono::system_clock::now() + timeout);
}

// One asynchronous call in flight: what the completion queue hands back.
struct Pending {
  virtual ~Pending() = default;
  virtual void complete() = 0;
};

template <class Reply>
struct Call final : Pending {
  explicit Call(std::function<void(const grpc::Status&, const Reply&)> f) : then(std::move(f)) {
    set_deadline(context);
  }
  void complete() override { then(status, reply); }
  grpc::ClientContext context;
  Reply reply;
  grpc::Status status;
  std::function<void(const grpc::Status&, const Reply&)> then;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Reply>> reader;
};

pb::RangeRequest range_request(const std::string& key, bool linearizable) {
  pb::RangeRequest request;
  request.set_key(kKeyPrefix + key);
  request.set_serializable(!linearizable);  // etcd's default range is linearizable
  return request;
}

pb::PutRequest put_request(const std::string& key, const std::string& value) {
  pb::PutRequest request;
  request.set_key(kKeyPrefix + key);
  request.set_value(value);
  return request;
}

// txn: if the key's create_revision is 0 (it does not exist), put it.
pb::TxnRequest create_request(const std::string& key, const std::string& value) {
  pb::TxnRequest request;
  auto* compare = request.add_compare();
  compare->set_key(kKeyPrefix + key);
  compare->set_target(pb::Compare::CREATE);
  compare->set_result(pb::Compare::EQUAL);
  compare->set_create_revision(0);
  *request.add_success()->mutable_request_put() = put_request(key, value);
  return request;
}

class GrpcConnection final : public Connection {
 public:
  explicit GrpcConnection(const TargetOptions& options)
      : session_timeout_(options.session_timeout),
        channel_(open_channel(options.endpoints, static_cast<std::size_t>(std::max(0, options.index)))),
        kv_(pb::KV::NewStub(channel_)),
        locks_(v3lockpb::Lock::NewStub(channel_)),
        poller_([this] { poll(); }) {}

  ~GrpcConnection() override {
    {
      std::unique_lock lock(mu_);
      idle_.wait(lock, [&] { return pending_ == 0; });  // each call ends by its deadline
    }
    cq_.Shutdown();
    poller_.join();
  }

  // True when some member answers a status request through this channel.
  bool reachable() {
    auto maintenance = pb::Maintenance::NewStub(channel_);
    grpc::ClientContext context;
    set_deadline(context);
    context.set_wait_for_ready(true);  // wait for the channel to connect, not fail at once
    pb::StatusResponse reply;
    const grpc::Status status = maintenance->Status(&context, pb::StatusRequest(), &reply);
    if (!status.ok()) std::cerr << "etcd: no member answers: " << status.error_message() << "\n";
    return status.ok();
  }

  void async_put(const std::string& key, const std::string& value, Done done) override {
    auto* call = new Call<pb::PutResponse>(
        [done = std::move(done)](const grpc::Status& status, const pb::PutResponse&) { done(status.ok()); });
    started();
    call->reader = kv_->AsyncPut(&call->context, put_request(key, value), &cq_);
    call->reader->Finish(&call->reply, &call->status, call);
  }

  void async_get(const std::string& key, bool linearizable, Done done) override {
    auto* call = new Call<pb::RangeResponse>(
        [done = std::move(done)](const grpc::Status& status, const pb::RangeResponse& reply) {
          done(status.ok() && reply.kvs_size() > 0);
        });
    started();
    call->reader = kv_->AsyncRange(&call->context, range_request(key, linearizable), &cq_);
    call->reader->Finish(&call->reply, &call->status, call);
  }

  void async_create(const std::string& key, const std::string& value, Done done) override {
    auto* call = new Call<pb::TxnResponse>(
        [done = std::move(done)](const grpc::Status& status, const pb::TxnResponse& reply) {
          done(status.ok() && reply.succeeded());
        });
    started();
    call->reader = kv_->AsyncTxn(&call->context, create_request(key, value), &cq_);
    call->reader->Finish(&call->reply, &call->status, call);
  }

  bool put(const std::string& key, const std::string& value) override {
    grpc::ClientContext context;
    set_deadline(context);
    pb::PutResponse reply;
    return kv_->Put(&context, put_request(key, value), &reply).ok();
  }

  bool create(const std::string& key, const std::string& value) override {
    grpc::ClientContext context;
    set_deadline(context);
    pb::TxnResponse reply;
    return kv_->Txn(&context, create_request(key, value), &reply).ok() && reply.succeeded();
  }

  std::optional<std::string> get(const std::string& key) override {
    grpc::ClientContext context;
    set_deadline(context);
    pb::RangeResponse reply;
    if (!kv_->Range(&context, range_request(key, true), &reply).ok() || reply.kvs_size() == 0) return std::nullopt;
    return reply.kvs(0).value();
  }

  bool prepare_keys(const std::vector<std::string>& keys, const std::string& value) override {
    return put_all(*this, keys, value, kPrepareWindow, "etcd");
  }

  bool watch(const std::string& key, std::function<void(std::optional<std::string>)> on_change) override {
    auto watch = std::make_unique<etcd::Watch>(channel_, kKeyPrefix + key, std::move(on_change));
    if (!watch->start(kCallTimeout)) return false;
    std::lock_guard lock(streams_mu_);
    watches_.push_back(std::move(watch));
    return true;
  }

  bool create_ephemeral(const std::string& key, const std::string& value,
                        std::chrono::milliseconds timeout) override {
    auto lease = std::make_unique<etcd::Lease>(channel_);
    if (!lease->grant(ceil_seconds(timeout))) return false;
    pb::PutRequest request = put_request(key, value);
    request.set_lease(lease->id());
    grpc::ClientContext context;
    set_deadline(context);
    pb::PutResponse reply;
    if (!kv_->Put(&context, request, &reply).ok()) return false;  // the lease is revoked
    std::lock_guard lock(streams_mu_);
    leases_.push_back(std::move(lease));
    return true;
  }

  bool lock(const std::string& name) override {
    std::lock_guard guard(lock_mu_);
    if (!lock_lease_ || lock_lease_->gone()) {
      lock_lease_ = std::make_unique<etcd::Lease>(channel_);
      if (!lock_lease_->grant(ceil_seconds(session_timeout_))) {
        lock_lease_.reset();
        return false;
      }
    }
    v3lockpb::LockRequest request;
    request.set_name(kLockPrefix + name);
    request.set_lease(lock_lease_->id());
    grpc::ClientContext context;
    set_deadline(context, std::max<Clock::duration>(30s, 3 * session_timeout_));
    v3lockpb::LockResponse reply;
    const grpc::Status status = locks_->Lock(&context, request, &reply);
    if (!status.ok()) {
      std::cerr << "etcd: lock " << name << ": " << status.error_message() << "\n";
      // An attempt may have left its key behind (a member died mid-wait); it is under this
      // lease, so revoking the lease (its destructor) frees the lock for the others.
      lock_lease_.reset();
      return false;
    }
    lock_key_ = reply.key();
    return true;
  }

  bool unlock() override {
    std::lock_guard guard(lock_mu_);
    if (lock_key_.empty()) return false;
    v3lockpb::UnlockRequest request;
    request.set_key(lock_key_);
    grpc::ClientContext context;
    set_deadline(context);
    v3lockpb::UnlockResponse reply;
    if (!locks_->Unlock(&context, request, &reply).ok()) return false;
    lock_key_.clear();
    return true;
  }

 private:
  void started() {
    std::lock_guard lock(mu_);
    ++pending_;
  }

  // The completion thread: runs each call's continuation, which may start the next call.
  void poll() {
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) {
      std::unique_ptr<Pending> call(static_cast<Pending*>(tag));
      call->complete();
      call.reset();
      std::lock_guard lock(mu_);
      if (--pending_ == 0) idle_.notify_all();
    }
  }

  const std::chrono::milliseconds session_timeout_;  // of the lock's lease
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::KV::Stub> kv_;
  std::unique_ptr<v3lockpb::Lock::Stub> locks_;
  grpc::CompletionQueue cq_;
  std::mutex mu_;
  std::condition_variable idle_;
  std::size_t pending_ = 0;  // calls started and not completed
  std::mutex streams_mu_;
  std::vector<std::unique_ptr<etcd::Watch>> watches_;
  std::vector<std::unique_ptr<etcd::Lease>> leases_;  // of create_ephemeral: kept alive to the end
  std::mutex lock_mu_;
  std::unique_ptr<etcd::Lease> lock_lease_;
  std::string lock_key_;  // as etcd named it
  std::thread poller_;  // last: starts once the rest exists
};

class GrpcTarget final : public Target {
 public:
  std::string name() const override { return "etcd"; }

  std::unique_ptr<Connection> connect(const TargetOptions& options) override {
    if (options.endpoints.empty()) {
      std::cerr << "etcd: no endpoints\n";
      return nullptr;
    }
    auto connection = std::make_unique<GrpcConnection>(options);
    if (!connection->reachable()) return nullptr;
    return connection;
  }

  // The member whose status names itself as the leader.
  int leader_index(const std::vector<std::string>& endpoints) override {
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
      auto maintenance = pb::Maintenance::NewStub(open_channel({endpoints[i]}, 0));
      grpc::ClientContext context;
      set_deadline(context, 2s);
      pb::StatusResponse reply;
      if (maintenance->Status(&context, pb::StatusRequest(), &reply).ok() && reply.header().member_id() != 0 &&
          reply.header().member_id() == reply.leader()) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }
};

}  // namespace

std::unique_ptr<Target> make_etcd_target() { return std::make_unique<GrpcTarget>(); }

}  // namespace peers

#else  // !FOURINONE_HAVE_ETCD_GRPC

namespace peers {

std::unique_ptr<Target> make_etcd_target() {
  std::cerr << "peer_bench: built without etcd's gRPC client; the etcd target is skipped. bench/peers.sh "
               "installs what it needs (apt-get install libgrpc++-dev protobuf-compiler-grpc protobuf-compiler "
               "libprotobuf-dev golang-etcd-server-dev), then rebuild\n";
  return nullptr;
}

}  // namespace peers

#endif  // FOURINONE_HAVE_ETCD_GRPC
