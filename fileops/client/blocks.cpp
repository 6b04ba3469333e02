#include "fileops/client/blocks.hpp"

#include <condition_variable>
#include <mutex>

namespace fourinone::fileops {
namespace {

struct Run {
  const MakeBlock& make;
  const OnBlockReply& on_reply;
  std::size_t count;
  std::mutex mutex;
  std::condition_variable idle;
  std::size_t next = 0;       // guarded by mutex: the next block to send
  std::size_t in_flight = 0;  // guarded by mutex
  Status error;               // guarded by mutex: the first error

  // Sends the next block on `c`, if any is left and nothing failed. Called with no lock held.
  void send_next(FttpConnection* c) {
    std::size_t index = 0;
    {
      std::lock_guard lock(mutex);
      if (!error.ok() || next >= count) return;
      index = next++;
      ++in_flight;
    }
    auto frame = make(index);
    if (!frame.ok()) {
      finish(frame.status());
      return;
    }
    c->async_call_frame(std::move(frame.value()), [this, c, index](Result<Reply> r) {
      Status s = r.ok() ? on_reply(index, r.value()) : r.status();
      if (s.ok()) send_next(c);  // before finish(): in_flight must not reach 0 between the two
      finish(s);
    });
  }

  void finish(const Status& s) {
    std::lock_guard lock(mutex);
    if (!s.ok() && error.ok()) error = s;
    if (--in_flight == 0) idle.notify_all();
  }
};

}  // namespace

Status run_blocks(const std::vector<FttpConnection*>& connections, std::size_t window, std::size_t count,
                  const MakeBlock& make, const OnBlockReply& on_reply) {
  if (count == 0) return {};
  if (connections.empty()) return Status(Errc::unavailable, "no connection to send blocks on");
  Run run{make, on_reply, count};
  {
    std::lock_guard lock(run.mutex);
    ++run.in_flight;  // held by this thread until every first send is out
  }
  for (std::size_t w = 0; w < std::max<std::size_t>(window, 1); ++w) {
    for (FttpConnection* c : connections) run.send_next(c);
  }
  run.finish(Status());
  std::unique_lock lock(run.mutex);
  run.idle.wait(lock, [&] { return run.in_flight == 0; });
  return run.error;
}

}  // namespace fourinone::fileops
