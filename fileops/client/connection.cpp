#include "fileops/client/connection.hpp"

#include <future>

#include "core/frame.hpp"

namespace fourinone::fileops {

Result<Reply> parse_reply(std::string body) {
  Reply reply;
  std::string_view data;
  if (Status s = proto::decode_body(body, reply.head, data, "fttp response"); !s.ok()) return s;
  if (reply.head.code != 0) {
    auto code = reply.head.code > static_cast<std::uint8_t>(kLastErrc) ? Errc::internal : static_cast<Errc>(reply.head.code);
    return Status(code, reply.head.message.empty() ? std::string("the server gave no reason") : reply.head.message);
  }
  reply.data_at = static_cast<std::size_t>(data.data() - body.data());
  reply.data_size = data.size();
  reply.body = std::move(body);
  return reply;
}

FttpConnection::FttpConnection(std::string server, std::chrono::milliseconds call_timeout)
    : server_(std::move(server)), call_timeout_(call_timeout), io_(1), work_(boost::asio::make_work_guard(io_)) {
  thread_ = std::thread([this] { io_.run(); });
}

FttpConnection::~FttpConnection() {
  boost::asio::post(io_, [this] {
    if (rpc_) rpc_->close();
    rpc_.reset();
  });
  work_.reset();
  // Let the close run, then stop whatever is left (timers of calls already answered).
  boost::asio::post(io_, [this] { io_.stop(); });
  if (thread_.joinable()) thread_.join();
}

Result<std::unique_ptr<FttpConnection>> FttpConnection::open(const ServerAddress& server,
                                                            const ConnectionOptions& options) {
  std::unique_ptr<FttpConnection> c(new FttpConnection(server.to_string(), options.call_timeout));
  std::promise<Status> connected;
  auto* raw = c.get();
  boost::asio::post(raw->io_, [raw, server, rpc = options.rpc, &connected] {
    core::RpcClient::connect(raw->io_, server, rpc, [raw, &connected](Result<std::shared_ptr<core::RpcClient>> r) {
      if (!r.ok()) {
        connected.set_value(r.status());
        return;
      }
      raw->rpc_ = r.value();
      raw->open_ = true;
      raw->rpc_->set_close_handler([raw](const Status&) { raw->open_ = false; });
      connected.set_value(Status());
    });
  });
  if (Status s = connected.get_future().get(); !s.ok()) return s;
  return c;
}

std::string FttpConnection::make_frame(const proto::Request& request, std::string_view data) {
  std::string frame = core::frame_buffer(data.size() + 64 + request.path.size() + request.path2.size());
  proto::encode_body(frame, request, data);
  return frame;
}

std::string FttpConnection::frame_with_room(const proto::Request& request, std::size_t n) {
  std::string frame = core::frame_buffer(n + 64 + request.path.size());
  core::encode_into(frame, request);
  core::encode_into(frame, static_cast<std::uint64_t>(n));
  frame.resize(frame.size() + n);
  return frame;
}

void FttpConnection::async_call_frame(std::string frame, Done done, std::chrono::milliseconds timeout) {
  auto deadline = core::RpcClient::Clock::now() + (timeout.count() > 0 ? timeout : call_timeout_);
  boost::asio::post(io_, [this, deadline, frame = std::move(frame), done = std::move(done)]() mutable {
    if (!rpc_) {
      done(Status(Errc::unavailable, "the connection to " + server_ + " is closed"));
      return;
    }
    rpc_->call_frame(std::move(frame), deadline,
                     [done = std::move(done)](Result<std::string> body) {
                       if (!body.ok()) {
                         done(body.status());
                         return;
                       }
                       done(parse_reply(std::move(body.value())));
                     });
  });
}

Result<Reply> FttpConnection::call(const proto::Request& request, std::string_view data,
                                   std::chrono::milliseconds timeout) {
  std::promise<Result<Reply>> answer;
  async_call_frame(make_frame(request, data), [&answer](Result<Reply> r) { answer.set_value(std::move(r)); }, timeout);
  return answer.get_future().get();
}

bool FttpConnection::is_open() const { return open_; }

}  // namespace fourinone::fileops
