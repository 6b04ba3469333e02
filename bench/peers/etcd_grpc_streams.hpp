// The two long-lived gRPC streams of peer_bench's etcd target (etcd_grpc_target.cpp): a watch
// on one key, and a lease kept alive. Each has one thread of its own reading its stream, like
// clientv3's watcher and keep-alive loop; both are built only with FOURINONE_HAVE_ETCD_GRPC.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace peers::etcd {

// A watch on one key: on_change(value) after each put, on_change(nullopt) after a delete,
// from the watch's own thread, until destroyed.
class Watch {
 public:
  using OnChange = std::function<void(std::optional<std::string>)>;
  Watch(const std::shared_ptr<grpc::Channel>& channel, std::string key, OnChange on_change);
  ~Watch();
  // Opens the stream and waits until etcd says the watch is created (false if not within timeout).
  bool start(std::chrono::milliseconds timeout);

 private:
  void read_events();

  std::unique_ptr<etcdserverpb::Watch::Stub> stub_;
  const std::string key_;
  const OnChange on_change_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>> stream_;
  std::thread reader_;
};

// A lease of `ttl` seconds (etcd may raise it to its minimum) kept alive every TTL/3 until
// destroyed, then revoked.
class Lease {
 public:
  explicit Lease(const std::shared_ptr<grpc::Channel>& channel);
  ~Lease();
  // Grants it and starts the keep-alive stream; false with a message when etcd refuses.
  bool grant(std::int64_t ttl);
  std::int64_t id() const { return id_; }
  // Expired (a keep-alive answered TTL 0) or its stream broke: no longer kept alive.
  bool gone() const { return gone_; }

 private:
  void keep_alive(std::chrono::milliseconds every);

  std::unique_ptr<etcdserverpb::Lease::Stub> stub_;
  std::int64_t id_ = 0;
  std::atomic<bool> gone_{false};
  grpc::ClientContext context_;
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace peers::etcd
