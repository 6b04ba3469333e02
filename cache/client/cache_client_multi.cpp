// CacheClient: the calls made of several requests — multi_get, multi_set (one request per
// group, sent in parallel), get_or_load (single flight) and stats (one request per server).
#include <future>
#include <thread>

#include "cache/client/cache_client.hpp"
#include "cache/protocol/checks.hpp"
#include "core/wire_archive.hpp"

namespace fourinone::cache {
namespace {

using proto::status_of;

struct Batch {
  std::string group;
  std::vector<std::size_t> positions;  // where each item's answer goes in the caller's order
  proto::Request request;
};

}  // namespace

// Splits by group under one ring, sends every group's request at once and waits for all. A
// stale_layout from any group (a scale-out happened) re-reads the layout and starts over:
// gets and sets are safe to repeat.
namespace {

template <class Submit>
Result<std::vector<proto::ItemResult>> run_batches(const std::vector<proto::Item>& items, proto::Op op,
                                                   std::shared_ptr<const HashRing> ring, Submit submit) {
  std::map<std::string, Batch> by_group;
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string group(ring->owner(items[i].key));
    if (group.empty()) {
      return pinned_group(items[i].key) ? Status(Errc::bad_request, "key '" + items[i].key + "' is pinned to a group the layout does not have")
                                        : Status(Errc::unavailable, "the cache layout has no groups");
    }
    Batch& b = by_group[group];
    b.group = group;
    b.positions.push_back(i);
    b.request.op = static_cast<std::uint8_t>(op);
    b.request.layout_version = ring->version();
    b.request.items.push_back(items[i]);
  }
  std::vector<std::future<Result<proto::Response>>> futures;
  std::vector<const Batch*> order;
  for (auto& [group, batch] : by_group) {
    (void)group;
    auto promise = std::make_shared<std::promise<Result<proto::Response>>>();
    futures.push_back(promise->get_future());
    order.push_back(&batch);
    submit(batch, [promise](Result<proto::Response> r) { promise->set_value(std::move(r)); });
  }
  std::vector<proto::ItemResult> results(items.size());
  Status first_error;
  for (std::size_t i = 0; i < futures.size(); ++i) {
    auto r = futures[i].get();
    if (!r.ok()) {
      if (first_error.ok()) first_error = r.status();
      continue;
    }
    if (Status s = status_of(r->code, r->message); !s.ok()) {
      if (first_error.ok() || s.code() == Errc::stale_layout) first_error = s;
      continue;
    }
    if (r->items.size() != order[i]->positions.size()) {
      first_error = Status(Errc::internal, "the server answered " + std::to_string(r->items.size()) + " items for " +
                                               std::to_string(order[i]->positions.size()));
      continue;
    }
    for (std::size_t k = 0; k < r->items.size(); ++k) {
      if (r->items[k].code == static_cast<std::uint8_t>(Errc::stale_layout)) first_error = Status(Errc::stale_layout, "");
      results[order[i]->positions[k]] = std::move(r->items[k]);
    }
  }
  if (!first_error.ok()) return first_error;
  return results;
}

}  // namespace

Result<std::vector<proto::ItemResult>> CacheClient::run_multi(const std::vector<proto::Item>& items, proto::Op op) {
  if (std::this_thread::get_id() == io_thread_id_) {
    return Status(Errc::bad_request, "a synchronous cache call from a cache callback would deadlock");
  }
  const auto deadline = Clock::now() + options_.call_timeout;
  while (true) {
    std::shared_ptr<const HashRing> ring;
    {
      std::lock_guard lock(ring_mutex_);
      ring = public_ring_;
    }
    auto results = run_batches(items, op, ring, [&](const Batch& b, ResponseDone done) {
      Call call;
      call.request = b.request;
      call.group = b.group;
      call.deadline = deadline;
      call.done = std::move(done);
      submit(std::move(call));
    });
    if (!results.ok() && results.status().code() == Errc::stale_layout && Clock::now() < deadline) {
      request_refresh();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    return results;
  }
}

Result<std::vector<std::optional<CacheItem>>> CacheClient::multi_get(const std::vector<std::string>& keys) {
  std::vector<proto::Item> items;
  for (const auto& key : keys) {
    if (Status s = check_key(key); !s.ok()) return Status(s.code(), "key '" + key + "': " + s.message());
    proto::Item item;
    item.key = key;
    items.push_back(std::move(item));
  }
  auto results = run_multi(items, proto::Op::multi_get);
  if (!results.ok()) return results.status();
  std::vector<std::optional<CacheItem>> out;
  out.reserve(keys.size());
  for (auto& r : results.value()) {
    if (r.code == 0) {
      out.emplace_back(CacheItem{std::move(r.value), r.version, r.ttl_ms});
    } else if (r.code == static_cast<std::uint8_t>(Errc::not_found)) {
      out.emplace_back(std::nullopt);
    } else {
      return status_of(r.code, r.value);
    }
  }
  return out;
}

Result<std::vector<std::uint64_t>> CacheClient::multi_set(const std::vector<std::pair<std::string, std::string>>& pairs,
                                                          std::chrono::milliseconds ttl) {
  if (ttl.count() < 0) return Status(Errc::bad_request, "negative ttl");
  std::vector<proto::Item> items;
  for (const auto& [key, value] : pairs) {
    if (Status s = check_key(key); !s.ok()) return Status(s.code(), "key '" + key + "': " + s.message());
    if (Status s = check_value(value); !s.ok()) return Status(s.code(), "key '" + key + "': " + s.message());
    items.push_back(proto::Item{key, value, 0, 0, ttl.count()});
  }
  auto results = run_multi(items, proto::Op::multi_set);
  if (!results.ok()) return results.status();
  std::vector<std::uint64_t> versions;
  for (auto& r : results.value()) {
    if (r.code != 0) return status_of(r.code, r.value);
    versions.push_back(r.version);
  }
  return versions;
}

Result<CacheItem> CacheClient::get_or_load(std::string_view key, const Loader& loader, std::chrono::milliseconds ttl) {
  auto hit = get(key);
  if (hit.ok() || hit.status().code() != Errc::not_found) return hit;
  auto loaded = loads_.run(key, [&]() -> Result<std::string> {
    // Another process (or an earlier flight) may have filled it since our miss.
    auto again = get(key);
    if (again.ok()) return again->value;
    if (again.status().code() != Errc::not_found) return again.status();
    auto value = loader();
    if (!value.ok()) return value.status();
    auto stored = add(key, value.value(), ttl);
    if (stored.ok()) return value;
    if (stored.status().code() == Errc::exists) {
      auto winner = get(key);  // someone else's write won: everyone sees that one
      if (winner.ok()) return winner->value;
    }
    return stored.status();
  });
  if (!loaded.ok()) return loaded.status();
  auto item = get(key);
  if (item.ok() && item->value == loaded.value()) return item;
  return CacheItem{loaded.value(), 0, 0};  // evicted or changed since: the loaded value stands
}

Result<std::vector<CacheServerStats>> CacheClient::stats() {
  auto registered = park_->list(domains_.servers);
  if (!registered.ok()) {
    if (registered.status().code() == Errc::not_found) return std::vector<CacheServerStats>{};
    return registered.status();
  }
  std::vector<CacheServerStats> out;
  std::vector<std::future<Result<proto::Response>>> futures;
  for (const auto& node : registered.value()) {
    CacheServerStats s;
    s.server = node.name;
    auto reg = decode_registration(node.value);
    if (reg.ok()) s.group = reg->group;
    s.role = "unreachable";
    out.push_back(s);
    auto promise = std::make_shared<std::promise<Result<proto::Response>>>();
    futures.push_back(promise->get_future());
    Call call;
    call.request.op = static_cast<std::uint8_t>(proto::Op::stat);
    call.address = node.name;
    call.deadline = Clock::now() + std::min<std::chrono::milliseconds>(options_.call_timeout, std::chrono::seconds(2));
    call.done = [promise](Result<proto::Response> r) { promise->set_value(std::move(r)); };
    submit(std::move(call));
  }
  auto number = [](const std::map<std::string, std::string>& f, const char* name) -> std::uint64_t {
    auto it = f.find(name);
    return it == f.end() ? 0 : std::strtoull(it->second.c_str(), nullptr, 10);
  };
  for (std::size_t i = 0; i < futures.size(); ++i) {
    auto r = futures[i].get();
    if (!r.ok() || r->code != 0) continue;
    std::map<std::string, std::string> f(r->fields.begin(), r->fields.end());
    CacheServerStats& s = out[i];
    s.group = f["group"];
    s.role = f["role"];
    s.epoch = number(f, "epoch");
    s.keys = number(f, "keys");
    s.bytes = number(f, "bytes");
    s.max_bytes = number(f, "max_bytes");
    s.evictions = number(f, "evictions");
    s.expired = number(f, "expired");
    s.hits = number(f, "hits");
    s.misses = number(f, "misses");
    s.backups_in_sync = number(f, "backups_in_sync");
    s.layout_version = number(f, "layout_version");
  }
  return out;
}

}  // namespace fourinone::cache
