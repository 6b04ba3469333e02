// call_on_io: runs a function on an io_context's thread and waits for its result, for threads
// (the HTTP pages) that must read state owned by that thread.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <optional>

#include "core/asio.hpp"

namespace fourinone::core {

// Posts `what` to `io` and returns its result, or nullopt when it has not run within `limit`
// (the loop is stopping or busy; `what` may still run later, harmlessly).
template <class F>
auto call_on_io(boost::asio::io_context& io, F what, std::chrono::milliseconds limit = std::chrono::seconds(2))
    -> std::optional<decltype(what())> {
  using T = decltype(what());
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  boost::asio::post(io, [promise, what = std::move(what)]() mutable { promise->set_value(what()); });
  if (future.wait_for(limit) != std::future_status::ready) return std::nullopt;
  return future.get();
}

}  // namespace fourinone::core
