// SingleFlight: runs a loader once per key however many threads miss that key at the same
// time; the others wait for that one result (Go's singleflight, Guava's LoadingCache).
//
// Thread-safe. The loader runs on the thread of the first caller, outside the lock; callers
// that arrive while it runs block until it returns and then get a copy of its result. A key
// is forgotten as soon as its loader returns, so a later miss loads again.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "fourinone/error.hpp"

namespace fourinone::cache {

class SingleFlight {
 public:
  using Loader = std::function<Result<std::string>()>;

  // Runs `load` unless a call for `key` is already running, in which case it waits for that
  // call's result. *shared is set to true when this caller got another caller's result.
  Result<std::string> run(std::string_view key, const Loader& load, bool* shared = nullptr);

  // Calls running right now (for tests and stats).
  std::size_t in_flight() const;
  // Callers blocked right now on another caller's load (for tests and stats: it is how a test
  // knows every caller is inside run() before it lets the loader finish).
  std::size_t waiting() const;

 private:
  struct Call {
    bool done = false;
    Result<std::string> result{Status(Errc::internal, "not loaded")};
    std::condition_variable cv;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Call>, std::less<>> calls_;  // guarded by mu_
  std::size_t waiting_ = 0;                                            // guarded by mu_
};

}  // namespace fourinone::cache
