#include "cache/server/cache_server.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>

#include "cache/protocol/checks.hpp"
#include "core/version.hpp"
#include "core/wire_archive.hpp"

namespace fourinone::cache {

Result<std::unique_ptr<CacheServer>> CacheServer::start(CacheServerOptions options) {
  auto settings = load_cache_settings(options.config);
  if (!settings.ok()) return settings.status();
  auto group = group_of_server(settings.value(), options.self, options.config.file);
  if (!group.ok()) return group.status();
  if (!options.http) {  // this server's entry of CACHE/HTTP, if any
    if (auto it = settings->http.find(options.self); it != settings->http.end()) options.http = it->second;
  }
  std::unique_ptr<CacheServer> server(new CacheServer(std::move(options), std::move(settings.value()), group.value()));
  if (Status s = server->rpc_->listen(server->options_.self.host, server->options_.self.port); !s.ok()) return s;

  GroupControlOptions control;
  control.park = ParkOptions::from_config(server->options_.config);
  control.settings = server->settings_;
  control.group = server->group_;
  control.self = server->options_.self;
  server->control_ = std::make_unique<GroupControl>(std::move(control), *server);
  if (Status s = server->control_->start(); !s.ok()) return s;
  if (const auto& http = server->options_.http) {
    CacheServer* self = server.get();
    server->http_ = std::make_unique<core::RoleHttp>(
        "cache server " + server->self_ + " of group " + server->group_, server->options_.config, server->io_,
        core::RoleHttp::Sources{[self](core::MetricsWriter& out) { self->write_metrics(out); },
                                [self] {
                                  proto::Response response;
                                  self->fill_stats(response);
                                  return core::RoleHttp::Rows(response.fields.begin(), response.fields.end());
                                }});
    if (Status s = server->http_->start(http->host, http->port); !s.ok()) return s;
    spdlog::info("cache {}: status page and /metrics on http://{}:{}/", server->self_, http->host, server->http_->port());
  }
  server->sweep();
  return server;
}

CacheServer::CacheServer(CacheServerOptions options, CacheSettings settings, std::string group)
    : options_(std::move(options)),
      settings_(std::move(settings)),
      group_(std::move(group)),
      self_(options_.self.to_string()),
      signals_(io_),
      sweep_timer_(io_),
      store_(settings_.max_memory, CacheStore::Recency::second_chance) {
  core::RpcServerOptions rpc;
  rpc.server_id = self_;
  rpc.users = options_.config.park.users;
  rpc.tls = core::TlsContext::for_server(options_.config);
  rpc.stats = net_stats_;
  // Room for the largest value plus its key, or a whole sync chunk, whichever is larger.
  rpc.max_frame = static_cast<std::uint32_t>(std::max<std::uint64_t>(core::kDefaultMaxFrame, settings_.max_value * 2 + (1u << 20)));
  rpc_ = std::make_unique<core::RpcServer>(io_, *this, rpc);
  std::vector<boost::asio::io_context*> connection_ios{&io_};
  for (std::uint32_t i = 1; i < settings_.threads; ++i) {
    extra_ios_.push_back(std::make_unique<boost::asio::io_context>(1));
    extra_work_.push_back(boost::asio::make_work_guard(*extra_ios_.back()));
    connection_ios.push_back(extra_ios_.back().get());
  }
  rpc_->set_connection_ios(std::move(connection_ios));
  link_options_.client_id = core::random_client_id();
  link_options_.max_frame = rpc.max_frame;
  link_options_.tls = core::TlsContext::for_client(options_.config.park.tls);
  if (const char* user = std::getenv("FOURINONE_USER")) link_options_.user = user;
  if (const char* password = std::getenv("FOURINONE_PASSWORD")) link_options_.password = password;
}

CacheServer::~CacheServer() {
  if (control_) control_->stop();
  for (auto& extra : extra_ios_) extra->stop();
  for (auto& thread : extra_threads_) thread.join();
}

void CacheServer::run() {
  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("cache {}: signal {}: shutting down", self_, sig);
    stop();
  });
  spdlog::info("cache server {} of group {} serving (max memory {} bytes, {} io threads)", self_, group_,
               settings_.max_memory, settings_.threads);
  for (auto& extra : extra_ios_) extra_threads_.emplace_back([io = extra.get()] { io->run(); });
  io_.run();
  if (http_) http_->stop();
  // The main loop is over: nothing answers any more, so the connection threads stop too (their
  // sockets close when the io_contexts go).
  for (auto& extra : extra_ios_) extra->stop();
  for (auto& thread : extra_threads_) thread.join();
  extra_threads_.clear();
  // Leave the park after the io loop: our registration goes at once, so a backup takes
  // over without waiting out the session timeout.
  if (control_) control_->stop();
}

void CacheServer::stop() {
  boost::asio::post(io_, [this] {
    if (stopping_) return;
    stopping_ = true;
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    sweep_timer_.cancel();
    close_links();
    rpc_->stop();
    io_.stop();
  });
}

std::int64_t CacheServer::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void CacheServer::sweep() {
  {
    std::unique_lock lock(state_mutex_);
    store_.sweep_expired(now_ms(), 2000);
  }
  sweep_timer_.expires_after(std::chrono::milliseconds(100));
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopping_) sweep();
  });
}

// --- control thread -> io thread ------------------------------------------------------------

void CacheServer::on_layout(Layout layout) {
  boost::asio::post(io_, [this, layout = std::move(layout)] {
    if (layout.version <= layout_.version) return;
    std::unique_lock lock(state_mutex_);
    layout_ = layout;
    ring_ = HashRing(layout_);
    // Keys this group no longer owns would come back wrong if the layout ever routed them
    // here again; drop them now (a backup does the same on its own).
    std::size_t dropped = store_.remove_if([this](const std::string& key) { return ring_.owner(key) != group_; });
    spdlog::info("cache {}: layout version {} ({} groups); dropped {} keys that moved", self_, layout_.version,
                 layout_.groups.size(), dropped);
  });
}

void CacheServer::on_role(Role role, std::uint64_t epoch, std::string primary) {
  boost::asio::post(io_, [this, role, epoch, primary = std::move(primary)] { become(role, epoch, primary); });
}

void CacheServer::on_members(std::vector<std::string> members) {
  boost::asio::post(io_, [this, members = std::move(members)] { set_members(members); });
}

void CacheServer::on_in_sync_changed(std::string member, bool added, bool done) {
  boost::asio::post(io_, [this, member = std::move(member), added, done] {
    if (!added) {
      finish_shrink(member, done);
      return;
    }
    auto it = links_.find(member);
    if (!done) {
      step_down("the group record no longer names this server primary");
      return;
    }
    if (it != links_.end() && it->second->state == Link::State::adding) it->second->state = Link::State::in_sync;
  });
}

// --- requests ---------------------------------------------------------------------------------

void CacheServer::on_request(const core::RpcConnectionPtr& connection, std::uint64_t id, std::string_view body) {
  if (!body.empty() && static_cast<std::uint8_t>(body[0]) >= static_cast<std::uint8_t>(proto::Op::replicate)) {
    if (on_main_thread()) {
      handle_replication(connection, id, body);
    } else {
      boost::asio::post(io_, [this, connection, id, bytes = std::string(body)] {
        handle_replication(connection, id, bytes);
      });
    }
    return;
  }
  proto::Request request;
  if (Status s = core::decode(body, request, "cache request"); !s.ok()) {
    connection->fail(id, s);  // garbage: error frame and close; nothing was touched
    return;
  }
  if (request.op == static_cast<std::uint8_t>(proto::Op::get)) {
    if (on_main_thread()) {
      serve_get(connection, id, request.item, request.layout_version);
    } else {
      std::shared_lock lock(state_mutex_);
      serve_get(connection, id, request.item, request.layout_version);
    }
    return;
  }
  if (on_main_thread()) {
    handle_client(connection, id, request);
    return;
  }
  boost::asio::post(io_, [this, connection, id, r = std::move(request)]() mutable {
    handle_client(connection, id, r);
  });
}

void CacheServer::on_peek(std::string_view body) {
  // Only where the store may be read without the lock: its one writer's thread.
  if (!on_main_thread()) return;
  proto::ByteReader reader(body);
  std::uint8_t op = 0;
  std::uint64_t layout_version = 0, epoch = 0;
  std::string_view key;
  if (!reader.u8(op) || !reader.u64(layout_version) || !reader.u64(epoch) || !reader.text(key)) return;
  if (op >= static_cast<std::uint8_t>(proto::Op::get) && op <= static_cast<std::uint8_t>(proto::Op::remove)) {
    store_.prefetch(key, 0);
  }
}

bool CacheServer::on_main_thread() const {
  return const_cast<boost::asio::io_context&>(io_).get_executor().running_in_this_thread();
}

void CacheServer::send_reply(const core::RpcConnectionPtr& connection, std::uint64_t id, std::string frame) {
  if (connection->on_own_thread()) {
    connection->reply_frame(id, std::move(frame));
    return;
  }
  boost::asio::post(connection->executor(), [connection, id, f = std::move(frame)]() mutable {
    connection->reply_frame(id, std::move(f));
  });
}

void CacheServer::send_fail(const core::RpcConnectionPtr& connection, std::uint64_t id, const Status& status) {
  if (connection->on_own_thread()) {
    connection->fail(id, status);
    return;
  }
  boost::asio::post(connection->executor(), [connection, id, status] { connection->fail(id, status); });
}

void CacheServer::serve_get(const core::RpcConnectionPtr& connection, std::uint64_t id, const proto::Item& item,
                            std::uint64_t layout_version) {
  if (role_ != Role::primary) {
    std::string frame = core::frame_buffer(64);
    proto::append_single_response(frame, static_cast<std::uint8_t>(Errc::not_leader),
                                  primary_ == self_ ? std::string_view() : std::string_view(primary_), layout_.version,
                                  0, {}, 0, 0);
    connection->reply_frame(id, std::move(frame));
    return;
  }
  if (layout_version != layout_.version) {
    if (layout_version > layout_.version) control_->poke();  // we may be behind
    std::string frame = core::frame_buffer(64);
    proto::append_single_response(frame, static_cast<std::uint8_t>(Errc::stale_layout),
                                  "client layout version " + std::to_string(layout_version) + ", server " +
                                      std::to_string(layout_.version),
                                  layout_.version, 0, {}, 0, 0);
    connection->reply_frame(id, std::move(frame));
    return;
  }
  answer_get(connection, id, item);
}

Status CacheServer::check_key(std::string_view key) const {
  if (Status s = proto::check_key(key, settings_.max_key); !s.ok()) return s;
  if (ring_.owner(key) != group_) {
    return Status(Errc::stale_layout, "key belongs to group '" + std::string(ring_.owner(key)) + "', not '" + group_ +
                                          "' (layout version " + std::to_string(layout_.version) + ")");
  }
  return {};
}

namespace {

void set_error(proto::ItemResult& out, const Status& s) { out.code = static_cast<std::uint8_t>(s.code()); }

std::int64_t ttl_left(const StoredValue& v, std::int64_t now) {
  if (v.expires_ms == 0) return 0;
  return std::max<std::int64_t>(1, v.expires_ms - now);
}

}  // namespace

void CacheServer::reply_status(const core::RpcConnectionPtr& connection, std::uint64_t id, const Status& s) {
  proto::Response response;
  response.code = static_cast<std::uint8_t>(s.code());
  response.message = s.message();
  response.layout_version = layout_.version;
  std::string frame = core::frame_buffer();
  core::encode_into(frame, response);
  send_reply(connection, id, std::move(frame));
}

void CacheServer::handle_client(const core::RpcConnectionPtr& connection, std::uint64_t id, proto::Request& request) {
  const auto op = static_cast<proto::Op>(request.op);
  if (op == proto::Op::stat) {
    proto::Response response;
    response.layout_version = layout_.version;
    fill_stats(response);
    std::string frame = core::frame_buffer();
    core::encode_into(frame, response);
    send_reply(connection, id, std::move(frame));
    return;
  }
  if (role_ != Role::primary) {
    reply_status(connection, id, Status(Errc::not_leader, primary_ == self_ ? std::string() : primary_));
    return;
  }
  if (request.layout_version != layout_.version) {
    if (request.layout_version > layout_.version) control_->poke();  // we may be behind
    reply_status(connection, id,
                 Status(Errc::stale_layout, "client layout version " + std::to_string(request.layout_version) +
                                                ", server " + std::to_string(layout_.version)));
    return;
  }

  proto::Response response;
  response.layout_version = layout_.version;
  // One buffer for every request's changes: after the first requests it never allocates.
  Changes& changes = changes_scratch_;
  changes.bytes.clear();
  changes.count = 0;
  switch (op) {
    case proto::Op::set:
    case proto::Op::remove: {
      {
        std::unique_lock lock(state_mutex_);
        do_write(op, request.item, response.item, changes);
      }
      // A stale_layout is the whole answer, so the client refreshes its layout.
      const std::uint8_t code =
          response.item.code == static_cast<std::uint8_t>(Errc::stale_layout) ? response.item.code : 0;
      std::string frame = core::frame_buffer(64 + response.item.value.size());
      proto::append_single_response(frame, code, {}, layout_.version, response.item.code, response.item.value,
                                    response.item.version, response.item.ttl_ms);
      answer_after_replication(connection, id, std::move(frame), changes);
      return;
    }
    case proto::Op::multi_get:
      response.items.resize(request.items.size());
      for (std::size_t i = 0; i < request.items.size(); ++i) do_get(request.items[i], response.items[i]);
      break;
    case proto::Op::multi_set:
      response.items.resize(request.items.size());
      {
        std::unique_lock lock(state_mutex_);
        for (std::size_t i = 0; i < request.items.size(); ++i) {
          do_write(proto::Op::set, request.items[i], response.items[i], changes);
        }
      }
      break;
    default:
      send_fail(connection, id, Status(Errc::bad_request, "unknown cache operation " + std::to_string(request.op)));
      return;
  }
  std::string frame = core::frame_buffer();
  core::encode_into(frame, response);
  answer_after_replication(connection, id, std::move(frame), changes);
}

void CacheServer::answer_get(const core::RpcConnectionPtr& connection, std::uint64_t id, const proto::Item& item) {
  std::string frame;
  if (Status s = check_key(item.key); !s.ok()) {
    const auto code = static_cast<std::uint8_t>(s.code());
    frame = core::frame_buffer(64 + s.message().size());
    proto::append_single_response(frame, code == static_cast<std::uint8_t>(Errc::stale_layout) ? code : 0, {},
                                  layout_.version, code, s.message(), 0, 0);
  } else {
    const std::int64_t now = now_ms();
    const StoredValue* found = store_.peek_shared(item.key, now);
    if (found == nullptr) {
      frame = core::frame_buffer(64);
      proto::append_single_response(frame, 0, {}, layout_.version, static_cast<std::uint8_t>(Errc::not_found), {}, 0,
                                    0);
    } else {
      frame = core::frame_buffer(64 + found->value.size());
      proto::append_single_response(frame, 0, {}, layout_.version, 0, found->value, found->version,
                                    ttl_left(*found, now));
    }
  }
  connection->reply_frame(id, std::move(frame));
}

void CacheServer::do_get(const proto::Item& item, proto::ItemResult& out) {
  if (Status s = check_key(item.key); !s.ok()) {
    set_error(out, s);
    out.value = s.message();
    return;
  }
  const std::int64_t now = now_ms();
  const StoredValue* found = store_.peek_shared(item.key, now);
  if (found == nullptr) {
    out.code = static_cast<std::uint8_t>(Errc::not_found);
    return;
  }
  out.code = 0;
  out.value = found->value;
  out.version = found->version;
  out.ttl_ms = ttl_left(*found, now);
}

void CacheServer::do_write(proto::Op op, const proto::Item& item, proto::ItemResult& out, Changes& changes) {
  Status s = check_key(item.key);
  if (s.ok()) s = proto::check_value(item.value, settings_.max_value);
  if (s.ok() && op == proto::Op::set && item.mode > static_cast<std::uint8_t>(SetMode::cas)) {
    s = Status(Errc::bad_request, "unknown set mode " + std::to_string(item.mode));
  }
  if (s.ok() && item.ttl_ms < 0) s = Status(Errc::bad_request, "negative ttl");
  if (!s.ok()) {
    set_error(out, s);
    out.value = s.message();
    return;
  }
  const std::int64_t now = now_ms();
  if (op == proto::Op::remove) {
    auto removed = store_.remove(item.key, item.version, now);
    if (!removed.ok()) {
      set_error(out, removed.status());
      out.value = removed.status().message();
      return;
    }
    out.value = std::move(removed->value);
    out.version = removed->version;
    proto::append_item(changes.bytes, item.key, {}, proto::kItemRemove, 0, 0);
  } else {
    auto version = store_.put(item.key, item.value, static_cast<SetMode>(item.mode), item.version, item.ttl_ms, now);
    if (!version.ok()) {
      set_error(out, version.status());
      out.value = version.status().message();
      return;
    }
    out.version = version.value();
    out.ttl_ms = item.ttl_ms;
    proto::append_item(changes.bytes, item.key, item.value, 0, version.value(), item.ttl_ms);
  }
  out.code = 0;
  ++changes.count;
}

void CacheServer::fill_stats(proto::Response& response) {
  StoreStats s = store_.stats();
  std::uint64_t in_sync = 0;
  for (const auto& [member, link] : links_) {
    (void)member;
    if (link->state == Link::State::in_sync) ++in_sync;
  }
  std::string role = role_name(role_);
  if (role_ == Role::backup && synced_epoch_ != epoch_) role = "syncing";
  response.fields = {
      {"server", self_},
      {"group", group_},
      {"role", role},
      {"epoch", std::to_string(epoch_)},
      {"primary", primary_},
      {"keys", std::to_string(s.keys)},
      {"bytes", std::to_string(s.bytes)},
      {"max_bytes", std::to_string(s.max_bytes)},
      {"evictions", std::to_string(s.evictions)},
      {"expired", std::to_string(s.expired)},
      {"hits", std::to_string(s.hits)},
      {"misses", std::to_string(s.misses)},
      {"backups_in_sync", std::to_string(in_sync)},
      {"layout_version", std::to_string(layout_.version)},
  };
}

void CacheServer::write_metrics(core::MetricsWriter& out) {
  core::write_process_metrics(out, "cache", core::build_version(), core::build_commit());
  const StoreStats s = store_.stats();
  std::string role = role_name(role_);
  if (role_ == Role::backup && synced_epoch_ != epoch_) role = "syncing";
  out.gauge("fourinone_cache_info", "Always 1; the labels name the server, its group and its role now.", 1,
            {{"server", self_}, {"group", group_}, {"role", role}});
  out.gauge("fourinone_cache_is_primary", "1 while this server is its group's primary.", role_ == Role::primary ? 1 : 0);
  out.gauge("fourinone_cache_epoch", "The newest epoch of the group this server has seen.", static_cast<double>(epoch_));
  out.gauge("fourinone_cache_keys", "Keys held.", static_cast<double>(s.keys));
  out.gauge("fourinone_cache_memory_bytes", "Bytes charged for keys and values (64 bytes per entry included).",
            static_cast<double>(s.bytes));
  out.gauge("fourinone_cache_memory_limit_bytes", "CACHE/MAXMEMORY.", static_cast<double>(s.max_bytes));
  out.counter("fourinone_cache_hits_total", "Gets that found their key.", static_cast<double>(s.hits));
  out.counter("fourinone_cache_misses_total", "Gets that did not.", static_cast<double>(s.misses));
  out.counter("fourinone_cache_evictions_total", "Entries dropped by the memory bound (least recently used first).",
              static_cast<double>(s.evictions));
  out.counter("fourinone_cache_expired_total", "Entries dropped because their TTL passed.",
              static_cast<double>(s.expired));
  double in_sync = 0;
  for (const auto& [member, link] : links_) {
    (void)member;
    if (link->state == Link::State::in_sync) ++in_sync;
  }
  out.gauge("fourinone_cache_backups_in_sync", "Backups every write waits for (primary only).", in_sync);
  out.gauge("fourinone_cache_layout_version", "Version of the key layout this server serves.",
            static_cast<double>(layout_.version));
  core::write_net_metrics(out, *net_stats_);
}

}  // namespace fourinone::cache
