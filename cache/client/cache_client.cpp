#include "cache/client/cache_client.hpp"

#include <future>

#include "cache/protocol/checks.hpp"
#include "core/wire_archive.hpp"

namespace fourinone::cache {
namespace {

constexpr auto kRetryDelay = std::chrono::milliseconds(30);

using proto::status_of;

// An item's error: the server puts the message in the value.
Status item_status(const proto::ItemResult& item) { return status_of(item.code, item.value); }

CacheItem to_item(proto::ItemResult&& r) { return CacheItem{std::move(r.value), r.version, r.ttl_ms}; }

// A single-key answer's item, or the error of the call, of the request or of the item.
Result<proto::ItemResult> item_of(Result<proto::Response> r) {
  if (!r.ok()) return r.status();
  if (Status s = status_of(r->code, r->message); !s.ok()) return s;
  if (Status s = item_status(r->item); !s.ok()) return s;
  return std::move(r->item);
}

}  // namespace

void CacheClient::Call::finish(Result<proto::Response> response) {
  if (item_done) {
    auto item = item_of(std::move(response));
    if (!item.ok()) return item_done(item.status());
    return item_done(to_item(std::move(item.value())));
  }
  if (version_done) {
    auto item = item_of(std::move(response));
    if (!item.ok()) return version_done(item.status());
    return version_done(item->version);
  }
  done(std::move(response));
}

CacheClient::CacheClient(CacheOptions options)
    : options_(std::move(options)),
      domains_(options_.service),
      io_work_(io_.get_executor()),
      control_work_(control_.get_executor()),
      retry_timer_(io_),
      sweep_timer_(io_) {
  rpc_options_.client_id = core::random_client_id();
  rpc_options_.user = options_.park.user;
  rpc_options_.password = options_.park.password;
  rpc_options_.connect_timeout = options_.park.connect_timeout;
  rpc_options_.tls = core::TlsContext::for_client(options_.park.tls);
  rpc_options_.max_frame = static_cast<std::uint32_t>(
      std::max<std::uint64_t>(core::kDefaultMaxFrame, options_.max_value * 2 + (1u << 20)));
  if (options_.connections_per_server == 0) options_.connections_per_server = 1;
}

CacheClient::~CacheClient() {
  watches_.clear();
  if (control_thread_.joinable()) {
    control_work_.reset();
    control_.stop();
    control_thread_.join();
  }
  if (io_thread_.joinable()) {
    std::promise<void> closed;
    boost::asio::post(io_, [this, &closed] {
      closing_ = true;
      retry_timer_.cancel();
      sweep_timer_.cancel();
      auto waiting = std::move(waiting_);
      waiting_.clear();
      for (auto& call : waiting) call.finish(Status(Errc::cancelled, "the cache client is closing"));
      for (auto& [address, pool] : pools_) {
        (void)address;
        for (auto& call : pool.queued) call.finish(Status(Errc::cancelled, "the cache client is closing"));
        pool.queued.clear();
        auto conns = std::move(pool.conns);  // their close handlers would edit pool.conns
        pool.conns.clear();
        for (auto& conn : conns) {
          conn->set_close_handler(nullptr);
          conn->close();  // fails their pending calls
        }
      }
      pools_.clear();
      closed.set_value();
    });
    closed.get_future().wait();
    io_work_.reset();
    io_.stop();
    io_thread_.join();
  }
  park_.reset();
}

Status CacheClient::start() {
  auto park = Park::connect(options_.park);
  if (!park.ok()) return park.status();
  park_ = std::move(park.value());
  auto view = read_view();
  if (!view.ok()) return view.status();
  if (view->layout.version == 0) {
    return Status(Errc::unavailable, "no cache layout in the park (domain " + domains_.layout +
                                         "): start the cache servers of config.xml first");
  }
  apply_view(std::move(view.value()));
  for (const std::string* domain : {&domains_.layout, &domains_.groups}) {
    auto w = park_->watch(*domain, std::nullopt, 0, [this](const WatchEvent&) { request_refresh(); });
    if (!w.ok()) return w.status();
    watches_.push_back(std::move(w.value()));
  }
  io_thread_ = std::thread([this] { io_.run(); });
  io_thread_id_ = io_thread_.get_id();
  control_thread_ = std::thread([this] { control_.run(); });
  boost::asio::post(io_, [this] { sweep(); });
  return {};
}

// --- the park (control thread) --------------------------------------------------------------

Result<CacheClient::View> CacheClient::read_view() {
  View view;
  auto layout_node = park_->get(domains_.layout, kLayoutNode);
  if (layout_node.ok()) {
    auto layout = decode_layout(layout_node->value);
    if (!layout.ok()) return layout.status();
    view.layout = std::move(layout.value());
  } else if (layout_node.status().code() != Errc::not_found) {
    return layout_node.status();
  }
  auto records = park_->list(domains_.groups);
  if (records.ok()) {
    for (const auto& node : records.value()) {
      auto record = decode_group_record(node.value);
      if (record.ok()) view.primaries[node.name] = record->primary;
    }
  } else if (records.status().code() != Errc::not_found) {
    return records.status();
  }
  return view;
}

void CacheClient::request_refresh() {
  if (refresh_queued_.exchange(true)) return;
  boost::asio::post(control_, [this] {
    refresh_queued_.store(false);
    auto view = read_view();
    if (!view.ok()) {
      boost::asio::post(io_, [this] { retry_waiting(); });
      return;
    }
    boost::asio::post(io_, [this, v = std::move(view.value())]() mutable { apply_view(std::move(v)); });
  });
}

// --- routing (io thread) ----------------------------------------------------------------------

void CacheClient::apply_view(View view) {
  if (view.layout.version >= ring_.version()) {
    if (view.layout.version != ring_.version() || ring_.groups().empty()) {
      ring_ = HashRing(view.layout);
      std::lock_guard lock(ring_mutex_);
      public_ring_ = std::make_shared<const HashRing>(ring_);
    }
  }
  primaries_ = std::move(view.primaries);
  retry_waiting();
}

void CacheClient::retry_waiting() {
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& call : waiting) send(std::move(call));
}

void CacheClient::submit(Call call) {
  if (std::this_thread::get_id() == io_thread_id_) {
    send(std::move(call));
  } else {
    boost::asio::post(io_, [this, c = std::move(call)]() mutable { send(std::move(c)); });
  }
}

void CacheClient::send(Call call) {
  if (closing_) {
    call.finish(Status(Errc::cancelled, "the cache client is closing"));
    return;
  }
  if (Clock::now() >= call.deadline) {
    call.finish(Status(Errc::timeout, "no answer from the cache before the deadline"));
    return;
  }
  std::string address = call.address;
  if (address.empty()) {
    std::string group = call.group;
    if (!call.route_key.empty()) {
      group = std::string(ring_.owner(call.route_key));
      call.request.layout_version = ring_.version();
      if (group.empty()) {
        auto pinned = pinned_group(call.route_key);
        call.finish(pinned ? Status(Errc::bad_request, "key is pinned to group '" + std::string(*pinned) +
                                                         "', which the cache layout (version " +
                                                         std::to_string(ring_.version()) + ") does not have")
                         : Status(Errc::unavailable, "the cache layout has no groups"));
        return;
      }
    }
    auto it = primaries_.find(group);
    if (it == primaries_.end() || it->second.empty()) {
      retry_later(std::move(call));
      return;
    }
    address = it->second;
  }
  Pool& pool = pools_[address];
  if (pool.conns.empty()) {
    pool.queued.push_back(std::move(call));
    if (!pool.connecting) connect_pool(address);
    return;
  }
  auto conn = pool.conns[pool.next % pool.conns.size()];
  if (!pool.turn_started) {
    pool.turn_started = true;
    boost::asio::post(io_, [this, address] {
      auto it = pools_.find(address);
      if (it == pools_.end()) return;
      it->second.turn_started = false;
      ++it->second.next;
    });
  }
  const auto deadline = call.deadline;
  std::string frame = core::frame_buffer(32 + call.request.item.key.size() + call.request.item.value.size());
  core::encode_into(frame, call.request);
  call.sent_to = std::move(address);
  std::uint32_t slot = 0;
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(in_flight_.size());
    in_flight_.push_back(std::move(call));
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
    in_flight_[slot] = std::move(call);
  }
  conn->call_frame(std::move(frame), deadline,
                   [this, slot](Result<std::string> answer) { on_answer(slot, std::move(answer)); });
}

void CacheClient::connect_pool(const std::string& address) {
  auto parsed = parse_server_address(address);
  Pool& pool = pools_[address];
  if (!parsed.ok()) {
    auto queued = std::move(pool.queued);
    pools_.erase(address);
    for (auto& call : queued) call.finish(parsed.status());
    return;
  }
  pool.connecting = true;
  auto remaining = std::make_shared<std::size_t>(options_.connections_per_server);
  for (std::size_t i = 0; i < options_.connections_per_server; ++i) {
    core::RpcClient::connect(io_, parsed.value(), rpc_options_,
                             [this, address, remaining](Result<std::shared_ptr<core::RpcClient>> conn) {
                               if (closing_) {
                                 if (conn.ok()) conn.value()->close();
                                 return;
                               }
                               Pool& p = pools_[address];
                               if (conn.ok()) {
                                 auto c = conn.value();
                                 std::weak_ptr<core::RpcClient> weak = c;
                                 c->set_close_handler([this, address, weak](const Status&) {
                                   auto it = pools_.find(address);
                                   if (it == pools_.end()) return;
                                   auto& conns = it->second.conns;
                                   auto dead = weak.lock();
                                   conns.erase(std::remove(conns.begin(), conns.end(), dead), conns.end());
                                 });
                                 p.conns.push_back(std::move(c));
                               }
                               if (--*remaining > 0) return;
                               p.connecting = false;
                               auto queued = std::move(p.queued);
                               p.queued.clear();
                               if (p.conns.empty()) {
                                 // Nobody there: it may have died; the park will say who leads.
                                 for (auto& call : queued) retry_later(std::move(call));
                                 pools_.erase(address);
                                 request_refresh();
                                 return;
                               }
                               for (auto& call : queued) send(std::move(call));
                             });
  }
}

void CacheClient::on_answer(std::uint32_t slot, Result<std::string> answer) {
  Call call = std::move(in_flight_[slot]);
  free_slots_.push_back(slot);
  const std::string& address = call.sent_to;
  if (closing_) {
    call.finish(Status(Errc::cancelled, "the cache client is closing"));
    return;
  }
  if (!answer.ok()) {
    if (answer.status().code() == Errc::timeout) {
      call.finish(answer.status());
      return;
    }
    // The connection broke: the server may be gone; ask the park who leads now.
    request_refresh();
    if (!call.address.empty()) {
      call.finish(answer.status());
      return;
    }
    retry_later(std::move(call));
    return;
  }
  proto::Response response;
  if (Status s = core::decode(answer.value(), response, "cache answer"); !s.ok()) {
    call.finish(s);
    return;
  }
  const auto code = static_cast<Errc>(response.code);
  if (code == Errc::not_leader && call.address.empty()) {
    // The message names the primary the server knows of, if any: try it at once.
    const std::string group = call.route_key.empty() ? call.group : std::string(ring_.owner(call.route_key));
    if (!response.message.empty() && response.message != address && parse_server_address(response.message).ok()) {
      primaries_[group] = response.message;
    } else {
      primaries_.erase(group);
    }
    request_refresh();
    retry_later(std::move(call));
    return;
  }
  if (code == Errc::stale_layout && !call.route_key.empty()) {
    request_refresh();
    retry_later(std::move(call));
    return;
  }
  call.finish(std::move(response));
}

void CacheClient::retry_later(Call call) {
  waiting_.push_back(std::move(call));
  if (retry_armed_) return;
  retry_armed_ = true;
  retry_timer_.expires_after(kRetryDelay);
  retry_timer_.async_wait([this](const boost::system::error_code& ec) {
    retry_armed_ = false;
    if (!ec && !closing_) retry_waiting();
  });
}

void CacheClient::sweep() {
  // Calls waiting for a refresh that will not come in time still end at their deadline.
  auto now = Clock::now();
  std::vector<Call> keep;
  for (auto& call : waiting_) {
    if (now >= call.deadline) {
      call.finish(Status(Errc::unavailable, "no primary of the key's group answered before the deadline"));
    } else {
      keep.push_back(std::move(call));
    }
  }
  waiting_ = std::move(keep);
  sweep_timer_.expires_after(std::chrono::milliseconds(100));
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !closing_) sweep();
  });
}

// --- the API (any thread) ---------------------------------------------------------------------

Result<proto::Response> CacheClient::call_sync(Call call) {
  if (std::this_thread::get_id() == io_thread_id_) {
    return Status(Errc::bad_request, "a synchronous cache call from a cache callback would deadlock");
  }
  std::promise<Result<proto::Response>> promise;
  auto future = promise.get_future();
  call.done = [&promise](Result<proto::Response> r) { promise.set_value(std::move(r)); };
  submit(std::move(call));
  return future.get();
}

Status CacheClient::check_key(std::string_view key) const { return proto::check_key(key, options_.max_key); }

Status CacheClient::check_value(std::string_view value) const {
  return proto::check_value(value, options_.max_value);
}

Result<CacheItem> CacheClient::get(std::string_view key) {
  if (Status s = check_key(key); !s.ok()) return s;
  Call call;
  call.request.op = static_cast<std::uint8_t>(proto::Op::get);
  call.request.item.key = key;
  call.route_key = key;
  call.deadline = Clock::now() + options_.call_timeout;
  auto item = item_of(call_sync(std::move(call)));
  if (!item.ok()) return item.status();
  return to_item(std::move(item.value()));
}

Result<std::uint64_t> CacheClient::write(std::string_view key, std::string_view value, std::uint8_t mode,
                                         std::uint64_t expected_version, std::chrono::milliseconds ttl) {
  if (Status s = check_key(key); !s.ok()) return s;
  if (Status s = check_value(value); !s.ok()) return s;
  if (ttl.count() < 0) return Status(Errc::bad_request, "negative ttl");
  Call call;
  call.request.op = static_cast<std::uint8_t>(proto::Op::set);
  call.request.item = proto::Item{std::string(key), std::string(value), mode, expected_version, ttl.count()};
  call.route_key = key;
  call.deadline = Clock::now() + options_.call_timeout;
  auto item = item_of(call_sync(std::move(call)));
  if (!item.ok()) return item.status();
  return item->version;
}

Result<std::uint64_t> CacheClient::set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
  return write(key, value, 0, 0, ttl);
}

Result<std::uint64_t> CacheClient::add(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
  return write(key, value, 1, 0, ttl);
}

Result<std::uint64_t> CacheClient::compare_and_set(std::string_view key, std::string_view value,
                                                   std::uint64_t expected_version, std::chrono::milliseconds ttl) {
  if (expected_version == 0) return Status(Errc::bad_request, "compare_and_set needs the version read (1 or more)");
  return write(key, value, 3, expected_version, ttl);
}

Result<CacheItem> CacheClient::remove(std::string_view key, std::uint64_t expected_version) {
  if (Status s = check_key(key); !s.ok()) return s;
  Call call;
  call.request.op = static_cast<std::uint8_t>(proto::Op::remove);
  call.request.item.key = key;
  call.request.item.version = expected_version;
  call.route_key = key;
  call.deadline = Clock::now() + options_.call_timeout;
  auto item = item_of(call_sync(std::move(call)));
  if (!item.ok()) return item.status();
  return to_item(std::move(item.value()));
}

void CacheClient::async_get(std::string_view key, ItemCallback done) {
  if (Status s = check_key(key); !s.ok()) {
    boost::asio::post(io_, [done = std::move(done), s] { done(s); });
    return;
  }
  Call call;
  call.request.op = static_cast<std::uint8_t>(proto::Op::get);
  call.request.item.key = key;
  call.route_key = key;
  call.deadline = Clock::now() + options_.call_timeout;
  call.item_done = std::move(done);
  submit(std::move(call));
}

void CacheClient::async_set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl,
                            VersionCallback done) {
  Status s = check_key(key);
  if (s.ok()) s = check_value(value);
  if (!s.ok()) {
    boost::asio::post(io_, [done = std::move(done), s] { done(s); });
    return;
  }
  Call call;
  call.request.op = static_cast<std::uint8_t>(proto::Op::set);
  call.request.item = proto::Item{std::string(key), std::string(value), 0, 0, ttl.count()};
  call.route_key = key;
  call.deadline = Clock::now() + options_.call_timeout;
  call.version_done = std::move(done);
  submit(std::move(call));
}

std::string CacheClient::group_of(std::string_view key) const {
  std::lock_guard lock(ring_mutex_);
  return public_ring_ ? std::string(public_ring_->owner(key)) : std::string();
}

std::vector<std::string> CacheClient::groups() const {
  std::lock_guard lock(ring_mutex_);
  return public_ring_ ? public_ring_->groups() : std::vector<std::string>{};
}

std::uint64_t CacheClient::layout_version() const {
  std::lock_guard lock(ring_mutex_);
  return public_ring_ ? public_ring_->version() : 0;
}

}  // namespace fourinone::cache
