// Puts many keys through a Connection's asynchronous put, a bounded number in flight: how a
// target whose put also creates (etcd) makes prepare_keys.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <mutex>

#include "target.hpp"

namespace peers {

// True when every put succeeded; else says how many failed on stderr, as `who`. Waits for the
// last completion, so the connection must end every call (targets do, by their call timeout).
inline bool put_all(Connection& connection, const std::vector<std::string>& keys, const std::string& value,
                    std::size_t window, const char* who) {
  std::mutex mu;
  std::condition_variable cv;
  std::size_t in_flight = 0, failed = 0;
  for (const auto& key : keys) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < window; });
      ++in_flight;
    }
    connection.async_put(key, value, [&](bool ok) {
      std::lock_guard lock(mu);
      --in_flight;
      if (!ok) ++failed;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return in_flight == 0; });
  if (failed > 0) std::fprintf(stderr, "%s: %zu of %zu puts failed\n", who, failed, keys.size());
  return failed == 0;
}

}  // namespace peers
