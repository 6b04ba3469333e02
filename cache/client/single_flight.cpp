// SingleFlight (see single_flight.hpp).
//
// DESIGN: mu_ guards calls_ and every Call's `done` and `result` until done is set; after
// that a Call is never written again, so waiters copy its result outside the lock. The first
// caller of a key inserts its Call, drops the lock, runs the loader, then under the lock
// publishes the result and erases the entry before it wakes the waiters: a caller that comes
// after that point starts a new load instead of reading a stale one. Waiters hold their own
// shared_ptr to the Call, so the erase does not pull it from under them.
//
// A loader must not call run() for its own key (it would wait for itself), and the
// SingleFlight must outlive every run() in progress.
#include "cache/client/single_flight.hpp"

#include <exception>
#include <utility>

namespace fourinone::cache {

namespace {

// Waiters are blocked on this loader's result: an exception must become a result too.
Result<std::string> invoke_loader(const SingleFlight::Loader& load) {
  try {
    return load();
  } catch (const std::exception& e) {
    return Status(Errc::internal, std::string("loader threw: ") + e.what());
  } catch (...) {
    return Status(Errc::internal, "loader threw a non-standard exception");
  }
}

}  // namespace

Result<std::string> SingleFlight::run(std::string_view key, const Loader& load, bool* shared) {
  std::unique_lock lock(mu_);
  if (auto it = calls_.find(key); it != calls_.end()) {
    std::shared_ptr<Call> call = it->second;
    ++waiting_;
    call->cv.wait(lock, [&call] { return call->done; });
    --waiting_;
    lock.unlock();
    if (shared != nullptr) *shared = true;
    return call->result;
  }

  auto call = std::make_shared<Call>();
  auto entry = calls_.emplace(std::string(key), call).first;
  lock.unlock();

  Result<std::string> result = invoke_loader(load);

  lock.lock();
  call->result = result;
  call->done = true;
  // Only this caller erases this key, so `entry` is still ours.
  calls_.erase(entry);
  lock.unlock();
  call->cv.notify_all();
  if (shared != nullptr) *shared = false;
  return result;
}

std::size_t SingleFlight::in_flight() const {
  std::lock_guard lock(mu_);
  return calls_.size();
}

std::size_t SingleFlight::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

}  // namespace fourinone::cache
