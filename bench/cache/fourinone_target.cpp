// Our cache as cache_bench sees it: one fourinone::Cache client (the library users link)
// with a pool of `connections` sockets to the key's primary. Each batch is issued as
// pipelined async calls; the client spreads them over its sockets, so the server sees as
// many connections, each with about `depth` requests in flight, as the other targets make.
#include <algorithm>
#include <atomic>
#include <iostream>
#include <memory>

#include "bench/cache/target.hpp"
#include "fourinone/cache.hpp"

namespace cachebench {
namespace {

class FourinoneConnection final : public Connection {
 public:
  explicit FourinoneConnection(fourinone::Cache& cache) : cache_(cache) {}

  void async_batch(const std::vector<Op>& ops, const std::string& value, BatchDone done) override {
    struct State {
      std::atomic<std::size_t> left;
      std::atomic<std::size_t> ok{0};
      std::atomic<std::size_t> errors{0};
      std::string error;  // written by the first failing op only (io thread: one at a time)
      BatchDone done;
    };
    auto state = std::make_shared<State>();
    state->left = ops.size();
    state->done = std::move(done);
    auto finish = [state](bool ok, const fourinone::Status& s) {
      if (ok) {
        state->ok.fetch_add(1, std::memory_order_relaxed);
      } else if (!s.ok() && s.code() != fourinone::Errc::not_found) {
        if (state->errors.fetch_add(1) == 0) state->error = s.to_string();
      }
      if (state->left.fetch_sub(1) == 1) {
        BatchResult r;
        r.ok = state->ok.load();
        r.errors = state->errors.load();
        r.error = state->error;
        state->done(r);
      }
    };
    for (const auto& op : ops) {
      if (op.is_set) {
        cache_.async_set(op.key, value, std::chrono::milliseconds(0),
                         [finish](fourinone::Result<std::uint64_t> r) { finish(r.ok(), r.status()); });
      } else {
        cache_.async_get(op.key, [finish](fourinone::Result<fourinone::CacheItem> r) { finish(r.ok(), r.status()); });
      }
    }
  }

 private:
  fourinone::Cache& cache_;
};

class FourinoneTarget final : public Target {
 public:
  explicit FourinoneTarget(std::unique_ptr<fourinone::Cache> cache) : cache_(std::move(cache)) {}
  std::string name() const override { return "fourinone"; }
  std::unique_ptr<Connection> connect(int) override { return std::make_unique<FourinoneConnection>(*cache_); }

 private:
  std::unique_ptr<fourinone::Cache> cache_;
};

}  // namespace

std::unique_ptr<Target> make_fourinone_target(const std::string& config_path, int connections) {
  auto config = fourinone::load_config(config_path);
  if (!config.ok()) {
    std::cerr << "cache_bench: " << config.status().to_string() << "\n";
    return nullptr;
  }
  auto options = fourinone::CacheOptions::from_config(config.value());
  if (!options.ok()) {
    std::cerr << "cache_bench: " << options.status().to_string() << "\n";
    return nullptr;
  }
  options->connections_per_server = static_cast<std::size_t>(std::max(1, connections));
  auto cache = fourinone::Cache::connect(options.value());
  if (!cache.ok()) {
    std::cerr << "cache_bench: cannot connect to the cache: " << cache.status().to_string() << "\n";
    return nullptr;
  }
  return std::make_unique<FourinoneTarget>(std::move(cache.value()));
}

}  // namespace cachebench
