// FttpClient::open_writer: a two-phase write fed by appends, several in flight at once.
#include <condition_variable>
#include <mutex>

#include "fileops/client/fttp_client.hpp"

namespace fourinone::fileops {
namespace {

class Writer final : public FttpWriter {
 public:
  Writer(std::shared_ptr<FttpConnection> conn, FttpUrl url, std::uint64_t handle, std::size_t window, std::size_t chunk)
      : conn_(std::move(conn)), url_(std::move(url)), handle_(handle), window_(window), chunk_(chunk) {}
  ~Writer() override { abort(); }

  Status append(std::string_view data) override {
    if (done_) return Status(Errc::bad_request, "the write of " + url_.to_string() + " is already committed or aborted");
    while (!data.empty()) {
      std::string_view part = data.substr(0, chunk_);
      data.remove_prefix(part.size());
      std::unique_lock lock(mutex_);
      idle_.wait(lock, [&] { return in_flight_ < window_; });
      if (!error_.ok()) return error_;
      ++in_flight_;
      lock.unlock();
      auto q = make_request(proto::Op::write, url_);
      q.handle = handle_;
      q.offset = offset_;
      offset_ += part.size();
      conn_->async_call_frame(FttpConnection::make_frame(q, part), [this](Result<Reply> r) {
        std::lock_guard guard(mutex_);
        if (!r.ok() && error_.ok()) error_ = r.status();
        --in_flight_;
        idle_.notify_all();
      });
    }
    return {};
  }

  Result<std::uint64_t> commit() override {
    if (done_) return Status(Errc::bad_request, "the write of " + url_.to_string() + " is already committed or aborted");
    Status failed = drain();
    if (!failed.ok()) {
      abort();
      return failed;
    }
    done_ = true;
    proto::Request end;
    end.op = static_cast<std::uint8_t>(proto::Op::commit);
    end.handle = handle_;
    end.length = offset_;
    end.flags = proto::kTruncate;
    auto r = conn_->call(end);
    if (!r.ok()) return r.status();
    return r->head.size;
  }

  void abort() override {
    if (done_) return;
    done_ = true;
    (void)drain();
    proto::Request end;
    end.op = static_cast<std::uint8_t>(proto::Op::abort);
    end.handle = handle_;
    (void)conn_->call(end);  // a lost connection aborted it already
  }

 private:
  Status drain() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return in_flight_ == 0; });
    return error_;
  }

  std::shared_ptr<FttpConnection> conn_;
  FttpUrl url_;
  std::uint64_t handle_;
  std::size_t window_;
  std::size_t chunk_;
  std::uint64_t offset_ = 0;  // bytes appended so far (the caller's thread)
  bool done_ = false;
  std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t in_flight_ = 0;  // guarded by mutex_
  Status error_;               // guarded by mutex_: the first failed append
};

}  // namespace

Result<std::unique_ptr<FttpWriter>> FttpClient::open_writer(const FttpUrl& url, bool exclusive) {
  if (url.root.empty() || url.path.empty()) return Status(Errc::bad_request, "write needs a file path: " + url.to_string());
  auto conns = connections(url.server(), 1);
  if (!conns.ok()) return conns.status();
  auto open = make_request(proto::Op::open_write, url);
  if (exclusive) open.flags |= proto::kExclusive;
  auto r = conns->front()->call(open);
  if (!r.ok()) return r.status();
  return std::unique_ptr<FttpWriter>(
      new Writer(conns->front(), url, r->head.handle, options().window, options().chunk));
}

}  // namespace fourinone::fileops
