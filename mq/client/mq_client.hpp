// MqClient: the implementation of fourinone::Mq (include/fourinone/mq.hpp) on the park client.
//
// Every call is one park request (proto::MqRequest / MqReadRequest) through the park
// client's connection, so it shares its leader-following, reconnect-and-resend and
// exactly-once seqs. Sends go through a SendBatcher. Receives own their leases through the
// park client's session (opened on the first receive, and again if it expired).
#pragma once

#include <memory>

#include "fourinone/mq.hpp"
#include "mq/client/send_batcher.hpp"
#include "park/client/park_client.hpp"

namespace fourinone::mq {

namespace proto = park::proto;

class MqClient final : public Mq {
 public:
  explicit MqClient(MqOptions options);
  ~MqClient() override;

  Status connect_first() { return park_->connect_first(); }

  Status create_queue(std::string_view name, const ChannelOptions& options) override;
  Status create_topic(std::string_view name, const ChannelOptions& options) override;
  Status remove_channel(std::string_view name) override;
  Result<std::vector<std::string>> list_channels() override;
  Result<ChannelStats> stats(std::string_view name) override;

  Result<std::uint64_t> send(std::string_view queue, std::string_view body) override;
  Result<std::vector<std::uint64_t>> send_batch(std::string_view queue, const std::vector<std::string>& bodies) override;
  void async_send(std::string_view queue, std::string_view body, SendCallback done) override;
  Result<std::vector<Message>> receive(std::string_view queue, std::size_t max, std::chrono::milliseconds wait) override;
  Result<std::optional<Message>> receive_one(std::string_view queue, std::chrono::milliseconds wait) override;

  Result<std::uint64_t> publish(std::string_view topic, std::string_view body) override;
  void async_publish(std::string_view topic, std::string_view body, SendCallback done) override;
  Status subscribe(std::string_view topic, std::string_view subscriber, const SubscribeOptions& options) override;
  Status unsubscribe(std::string_view topic, std::string_view subscriber) override;
  Result<std::vector<Message>> receive(std::string_view topic, std::string_view subscriber, std::size_t max,
                                       std::chrono::milliseconds wait) override;

  Status ack(const Message& message) override;
  Status ack(const std::vector<Message>& messages) override;
  void async_ack(const std::vector<Message>& messages, std::function<void(Status)> done) override;
  Status nack(const Message& message) override;
  Status extend(const Message& message) override;

  Park& park() override { return *park_; }

 private:
  // One queue command, synchronously; the reply's MqResult on success.
  Result<park::MqResult> call(proto::MqRequest request, std::chrono::milliseconds extra_wait = {});
  Result<proto::Response> read(proto::MqReadRequest request);
  Status channel_call(park::MqKind kind, std::string_view name, bool topic, const ChannelOptions& options);
  Status settle(park::MqKind kind, const std::vector<Message>& messages);
  static proto::MqRequest settle_request(park::MqKind kind, const std::vector<Message>& messages);
  Status check_body(std::string_view body) const;
  // Sends one body through the batcher; done runs on the io thread.
  void enqueue(std::string_view channel, bool topic, std::string_view body, SendBatcher::Deliver done);
  Result<std::uint64_t> send_sync(std::string_view channel, bool topic, std::string_view body);
  void send_async(std::string_view channel, bool topic, std::string_view body, SendCallback done);
  Result<std::vector<Message>> receive_from(std::string_view channel, std::string_view subscriber, bool topic,
                                            std::size_t max, std::chrono::milliseconds wait);

  MqOptions options_;
  std::unique_ptr<park::ParkClient> park_;
  SendBatcher batcher_;
};

}  // namespace fourinone::mq
