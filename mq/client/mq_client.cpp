#include "mq/client/mq_client.hpp"

#include <future>

namespace fourinone::mq {
namespace {

using park::MqKind;

Status status_of(const Result<proto::Response>& r) {
  if (!r.ok()) return r.status();
  return r.value().status;
}

Message to_message(park::MqDelivery&& d) {
  Message m;
  m.channel = std::move(d.channel);
  m.subscriber = std::move(d.subscriber);
  m.offset = d.offset;
  m.lease = d.token;
  m.deliveries = d.deliveries;
  m.sent_ms = d.sent_ms;
  m.lease_deadline_ms = d.deadline_ms;
  m.body = std::move(d.body);
  return m;
}

}  // namespace

MqClient::MqClient(MqOptions options)
    : options_(std::move(options)),
      park_(std::make_unique<park::ParkClient>(options_.park)),
      batcher_(options_.max_batches_in_flight, options_.max_batch,
               [this](const std::string& channel, bool topic, std::vector<std::string> bodies,
                      SendBatcher::BatchDone done) {
                 proto::MqRequest request;
                 request.command.kind = MqKind::send;
                 request.command.channel = channel;
                 request.command.topic = topic;
                 request.command.bodies = std::move(bodies);
                 park_->call_mq(std::move(request), options_.park.call_timeout,
                                [done = std::move(done)](Result<proto::Response> r) {
                                  if (Status s = status_of(r); !s.ok()) return done(s);
                                  if (!r.value().mq) return done(Status(Errc::internal, "a send answered without offsets"));
                                  done(std::move(r.value().mq->result.offsets));
                                });
               }) {}

MqClient::~MqClient() {
  // The park client first: its pending calls end (their callbacks reach the batcher, which
  // is still alive) and its threads stop before anything they use goes away.
  park_.reset();
}

Result<park::MqResult> MqClient::call(proto::MqRequest request, std::chrono::milliseconds extra_wait) {
  auto promise = std::make_shared<std::promise<Result<proto::Response>>>();
  auto future = promise->get_future();
  park_->call_mq(std::move(request), options_.park.call_timeout + extra_wait,
                 [promise](Result<proto::Response> r) { promise->set_value(std::move(r)); });
  auto r = future.get();
  if (Status s = status_of(r); !s.ok()) return s;
  if (!r.value().mq) return Status(Errc::internal, "a queue request answered without its result");
  return std::move(r.value().mq->result);
}

Result<proto::Response> MqClient::read(proto::MqReadRequest request) {
  auto promise = std::make_shared<std::promise<Result<proto::Response>>>();
  auto future = promise->get_future();
  park_->call_mq_read(std::move(request), [promise](Result<proto::Response> r) { promise->set_value(std::move(r)); });
  auto r = future.get();
  if (Status s = status_of(r); !s.ok()) return s;
  if (!r.value().mq) return Status(Errc::internal, "a queue read answered without its result");
  return r;
}

Status MqClient::check_body(std::string_view body) const {
  if (body.size() > options_.max_message) {
    return Status(Errc::too_large, "a message of " + std::to_string(body.size()) + " bytes; the limit is MQ/MAXMESSAGE " +
                                       std::to_string(options_.max_message));
  }
  return {};
}

// --- channels ---------------------------------------------------------------------------

Status MqClient::channel_call(MqKind kind, std::string_view name, bool topic, const ChannelOptions& options) {
  proto::MqRequest request;
  request.command.kind = kind;
  request.command.channel = std::string(name);
  request.command.topic = topic;
  request.options = options;
  auto r = call(std::move(request));
  return r.ok() ? Status{} : r.status();
}

Status MqClient::create_queue(std::string_view name, const ChannelOptions& options) {
  return channel_call(MqKind::create, name, false, options);
}

Status MqClient::create_topic(std::string_view name, const ChannelOptions& options) {
  return channel_call(MqKind::create, name, true, options);
}

Status MqClient::remove_channel(std::string_view name) { return channel_call(MqKind::remove, name, false, {}); }

Result<std::vector<std::string>> MqClient::list_channels() {
  auto r = read(proto::MqReadRequest{});
  if (!r.ok()) return r.status();
  return std::move(r.value().mq->channels);
}

Result<ChannelStats> MqClient::stats(std::string_view name) {
  if (name.empty()) return Status(Errc::bad_request, "stats of a channel needs its name");
  proto::MqReadRequest request;
  request.channel = std::string(name);
  auto r = read(std::move(request));
  if (!r.ok()) return r.status();
  if (!r.value().mq->stats) return Status(Errc::internal, "stats answered without figures");
  return std::move(*r.value().mq->stats);
}

// --- sending ----------------------------------------------------------------------------

void MqClient::enqueue(std::string_view channel, bool topic, std::string_view body, SendBatcher::Deliver done) {
  if (Status s = check_body(body); !s.ok()) return done(s);
  batcher_.add(std::string(channel), topic, std::string(body), std::move(done));
}

Result<std::uint64_t> MqClient::send_sync(std::string_view channel, bool topic, std::string_view body) {
  auto promise = std::make_shared<std::promise<Result<std::uint64_t>>>();
  auto future = promise->get_future();
  enqueue(channel, topic, body, [promise](Result<std::uint64_t> r) { promise->set_value(std::move(r)); });
  return future.get();
}

void MqClient::send_async(std::string_view channel, bool topic, std::string_view body, SendCallback done) {
  enqueue(channel, topic, body, [this, done = std::move(done)](Result<std::uint64_t> r) mutable {
    park_->post_callback([done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
  });
}

Result<std::uint64_t> MqClient::send(std::string_view queue, std::string_view body) {
  return send_sync(queue, false, body);
}

Result<std::vector<std::uint64_t>> MqClient::send_batch(std::string_view queue, const std::vector<std::string>& bodies) {
  if (bodies.empty()) return std::vector<std::uint64_t>{};
  for (const auto& body : bodies) {
    if (Status s = check_body(body); !s.ok()) return s;  // nothing is sent
  }
  // Through the batcher, so they keep their order after this client's earlier sends.
  struct Gather {
    std::mutex mutex;
    std::vector<std::uint64_t> offsets;
    std::size_t left = 0;
    Status first_error;
    std::promise<void> done;
  };
  auto gather = std::make_shared<Gather>();
  gather->offsets.resize(bodies.size());
  gather->left = bodies.size();
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    enqueue(queue, false, bodies[i], [gather, i](Result<std::uint64_t> r) {
      std::lock_guard lock(gather->mutex);
      if (r.ok()) {
        gather->offsets[i] = r.value();
      } else if (gather->first_error.ok()) {
        gather->first_error = r.status();
      }
      if (--gather->left == 0) gather->done.set_value();
    });
  }
  gather->done.get_future().wait();
  std::lock_guard lock(gather->mutex);
  if (!gather->first_error.ok()) return gather->first_error;
  return gather->offsets;
}

void MqClient::async_send(std::string_view queue, std::string_view body, SendCallback done) {
  send_async(queue, false, body, std::move(done));
}

Result<std::uint64_t> MqClient::publish(std::string_view topic, std::string_view body) {
  return send_sync(topic, true, body);
}

void MqClient::async_publish(std::string_view topic, std::string_view body, SendCallback done) {
  send_async(topic, true, body, std::move(done));
}

// --- receiving --------------------------------------------------------------------------

Result<std::vector<Message>> MqClient::receive_from(std::string_view channel, std::string_view subscriber, bool topic,
                                                    std::size_t max, std::chrono::milliseconds wait) {
  if (max == 0) return Status(Errc::bad_request, "a receive of 0 messages");
  if (wait.count() < 0) return Status(Errc::bad_request, "a negative wait");
  for (int attempt = 0;; ++attempt) {
    auto session = park_->lease_session();
    if (!session.ok()) return session.status();
    proto::MqRequest request;
    request.command.kind = MqKind::receive;
    request.command.channel = std::string(channel);
    request.command.subscriber = std::string(subscriber);
    request.command.topic = topic;
    request.command.max = static_cast<std::uint32_t>(std::min<std::size_t>(max, UINT32_MAX));
    request.command.session = *session;
    request.wait_ms = wait.count();
    auto r = call(std::move(request), wait);
    // The session ended between our check and the receive: its leases are gone, so a new
    // session may lease at once.
    if (!r.ok() && r.status().code() == Errc::session_expired && attempt == 0) continue;
    if (!r.ok()) return r.status();
    std::vector<Message> out;
    out.reserve(r.value().delivered.size());
    for (auto& d : r.value().delivered) out.push_back(to_message(std::move(d)));
    return out;
  }
}

Result<std::vector<Message>> MqClient::receive(std::string_view queue, std::size_t max, std::chrono::milliseconds wait) {
  return receive_from(queue, "", false, max, wait);
}

Result<std::optional<Message>> MqClient::receive_one(std::string_view queue, std::chrono::milliseconds wait) {
  auto r = receive_from(queue, "", false, 1, wait);
  if (!r.ok()) return r.status();
  if (r.value().empty()) return std::optional<Message>{};
  return std::optional<Message>(std::move(r.value().front()));
}

Result<std::vector<Message>> MqClient::receive(std::string_view topic, std::string_view subscriber, std::size_t max,
                                               std::chrono::milliseconds wait) {
  if (subscriber.empty()) return Status(Errc::bad_request, "a topic receive needs the subscriber name");
  return receive_from(topic, subscriber, true, max, wait);
}

Status MqClient::subscribe(std::string_view topic, std::string_view subscriber, const SubscribeOptions& options) {
  if (subscriber.empty()) return Status(Errc::bad_request, "a subscription needs a subscriber name");
  proto::MqRequest request;
  request.command.kind = MqKind::subscribe;
  request.command.channel = std::string(topic);
  request.command.subscriber = std::string(subscriber);
  request.command.topic = true;
  request.command.from_oldest = options.from_oldest;
  auto r = call(std::move(request));
  return r.ok() ? Status{} : r.status();
}

Status MqClient::unsubscribe(std::string_view topic, std::string_view subscriber) {
  proto::MqRequest request;
  request.command.kind = MqKind::unsubscribe;
  request.command.channel = std::string(topic);
  request.command.subscriber = std::string(subscriber);
  request.command.topic = true;
  auto r = call(std::move(request));
  return r.ok() ? Status{} : r.status();
}

// --- acknowledgements -------------------------------------------------------------------

proto::MqRequest MqClient::settle_request(MqKind kind, const std::vector<Message>& messages) {
  proto::MqRequest request;
  request.command.kind = kind;
  for (const Message& m : messages) request.command.refs.push_back(park::MqLeaseRef{m.channel, m.subscriber, m.offset, m.lease});
  return request;
}

Status MqClient::settle(MqKind kind, const std::vector<Message>& messages) {
  if (messages.empty()) return {};
  auto r = call(settle_request(kind, messages));
  return r.ok() ? Status{} : r.status();
}

void MqClient::async_ack(const std::vector<Message>& messages, std::function<void(Status)> done) {
  auto deliver = [this, done = std::move(done)](Status s) mutable {
    if (done) park_->post_callback([done = std::move(done), s = std::move(s)]() mutable { done(std::move(s)); });
  };
  if (messages.empty()) return deliver({});
  park_->call_mq(settle_request(MqKind::ack, messages), options_.park.call_timeout,
                 [deliver = std::move(deliver)](Result<proto::Response> r) mutable { deliver(status_of(r)); });
}

Status MqClient::ack(const Message& message) { return settle(MqKind::ack, {message}); }
Status MqClient::ack(const std::vector<Message>& messages) { return settle(MqKind::ack, messages); }
Status MqClient::nack(const Message& message) { return settle(MqKind::nack, {message}); }
Status MqClient::extend(const Message& message) { return settle(MqKind::extend, {message}); }

}  // namespace fourinone::mq
