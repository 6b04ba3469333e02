// See etcd_grpc_streams.hpp. Compiled only with gRPC (bench/CMakeLists.txt).
#include "etcd_grpc_streams.hpp"

#include <algorithm>
#include <iostream>

namespace peers::etcd {

namespace pb = etcdserverpb;
using namespace std::chrono_literals;

Watch::Watch(const std::shared_ptr<grpc::Channel>& channel, std::string key, OnChange on_change)
    : stub_(pb::Watch::NewStub(channel)), key_(std::move(key)), on_change_(std::move(on_change)) {}

Watch::~Watch() {
  context_.TryCancel();  // ends the reader's Read
  if (reader_.joinable()) reader_.join();
}

bool Watch::start(std::chrono::milliseconds timeout) {
  stream_ = stub_->Watch(&context_);
  pb::WatchRequest request;
  request.mutable_create_request()->set_key(key_);
  if (!stream_->Write(request)) return false;
  // The first answer says the watch is in place. A Read cannot time out by itself, so a
  // helper cancels the stream if it does not come in time.
  std::mutex mu;
  std::condition_variable cv;
  bool answered = false;
  std::thread guard([&] {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, timeout, [&] { return answered; })) context_.TryCancel();
  });
  pb::WatchResponse response;
  const bool created = stream_->Read(&response) && response.created();
  {
    std::lock_guard lock(mu);
    answered = true;
  }
  cv.notify_all();
  guard.join();
  if (!created) {
    std::cerr << "etcd: the watch on " << key_ << " was not created\n";
    return false;
  }
  reader_ = std::thread([this] { read_events(); });
  return true;
}

void Watch::read_events() {
  pb::WatchResponse response;
  while (stream_->Read(&response)) {
    for (const auto& event : response.events()) {
      if (event.type() == mvccpb::Event::DELETE) on_change_(std::nullopt);
      else on_change_(event.kv().value());
    }
  }
}

Lease::Lease(const std::shared_ptr<grpc::Channel>& channel) : stub_(pb::Lease::NewStub(channel)) {}

Lease::~Lease() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  context_.TryCancel();
  if (thread_.joinable()) thread_.join();
  if (id_ == 0) return;
  // Revoked, so what it holds (a lock's key) goes now, not at its expiry.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 1s);
  pb::LeaseRevokeRequest request;
  request.set_id(id_);
  pb::LeaseRevokeResponse response;
  stub_->LeaseRevoke(&context, request, &response);
}

bool Lease::grant(std::int64_t ttl) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  pb::LeaseGrantRequest request;
  request.set_ttl(ttl);
  pb::LeaseGrantResponse response;
  const grpc::Status status = stub_->LeaseGrant(&context, request, &response);
  if (!status.ok() || response.id() == 0 || response.ttl() <= 0) {
    std::cerr << "etcd: lease grant failed: " << (status.ok() ? response.error() : status.error_message()) << "\n";
    return false;
  }
  id_ = response.id();
  const auto every = std::chrono::milliseconds(std::max<std::int64_t>(1, response.ttl() * 1000 / 3));
  thread_ = std::thread([this, every] { keep_alive(every); });
  return true;
}

// As clientv3 does: one keep-alive request every TTL/3 on one stream, each answered with the
// lease's TTL (0 once it expired).
void Lease::keep_alive(std::chrono::milliseconds every) {
  auto stream = stub_->LeaseKeepAlive(&context_);
  pb::LeaseKeepAliveRequest request;
  request.set_id(id_);
  pb::LeaseKeepAliveResponse response;
  for (;;) {
    if (!stream->Write(request) || !stream->Read(&response) || response.ttl() <= 0) {
      gone_ = true;
      return;
    }
    std::unique_lock lock(mu_);
    if (stop_cv_.wait_for(lock, every, [&] { return stop_; })) return;
  }
}

}  // namespace peers::etcd
