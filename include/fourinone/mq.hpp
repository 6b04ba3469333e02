// The message queue, seen from a client (DESIGN §5, mq/README.md).
//
// Queues and topics live in the park group itself: every send, lease, ack and cursor move is
// an entry of the park's replicated log, so a send that returned OK survives the loss of any
// minority of park servers, the leader included. No separate server is needed.
//
// Queue: send() appends; receive() leases the oldest available messages to this consumer and
// blocks (on the server, no polling) until one arrives or the wait ends. A leased message is
// invisible to other consumers until it is acked (gone for good), nacked (available again at
// once), its lease runs out, or the consumer's park session ends (it died): then it is
// delivered again, to whoever asks, with its delivery count + 1. A message that has been
// delivered max_deliveries times and comes back once more moves to the dead-letter queue
// "<queue>.dlq" (an ordinary queue). Available messages go out in send order.
//
// Topic: publish() appends; each durable subscription (topic, subscriber name) has its own
// cursor in the park and sees every message published after it was made, in order. Several
// processes receiving under one subscriber name share the work (a consumer group: each
// message goes to one of them). A subscriber that restarts resumes at its first unacked
// message. A slow subscriber never blocks the publisher. Dead letters go to
// "<topic>.<subscriber>.dlq".
//
// Delivery guarantee: at least once. A message is never lost once send/publish returned OK;
// it may be delivered more than once (after a lease ran out or a consumer died), and
// Message::deliveries says how many times it has been handed out.
//
// Thread-safety: an Mq object may be used from many threads at once. Callbacks of the async
// forms run on the park client's callback thread, one at a time, in order.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fourinone/config.hpp"
#include "fourinone/error.hpp"
#include "fourinone/park.hpp"

namespace fourinone {

// A message body is at most this many bytes unless the MQ row's MAXMESSAGE says otherwise
// (never above the park's MAXVALUE).
inline constexpr std::size_t kDefaultMaxMessage = 1u << 20;

// Retention and delivery rules of one queue or topic. A zero field takes the MQ row's value
// (config.xml) when the channel is created; the channel keeps its rules from then on.
struct ChannelOptions {
  // Queue: a send that would make the queue hold more than max_count messages (waiting and
  // leased) is refused with park_full; nothing is dropped. Topic: the oldest messages are
  // dropped to stay within max_count, read or not (subscribers that lag skip them).
  std::uint64_t max_count = 0;
  // Queue: a message that has waited this long unleased moves to the dead-letter queue.
  // Topic: older messages are dropped, read or not.
  std::chrono::milliseconds max_age{0};
  // Deliveries before a returning message is dead-lettered (0: the MQ row's, default 5).
  std::uint32_t max_deliveries = 0;
  // How long a receive leases its messages (0: the MQ row's LEASE, default 30 s).
  std::chrono::milliseconds lease{0};
};

struct MqOptions {
  ParkOptions park;
  std::size_t max_message = kDefaultMaxMessage;  // MQ/MAXMESSAGE: checked before sending
  // Up to this many send (or ack) requests per channel travel at once from this client;
  // sends made meanwhile are batched into the next request (one log entry each).
  std::size_t max_batches_in_flight = 4;
  std::size_t max_batch = 512;                    // messages in one batched request

  // The PARK and MQ rows (login from FOURINONE_USER/FOURINONE_PASSWORD).
  // Errors: config_error naming file, line and element.
  static Result<MqOptions> from_config(const Config& config);
};

struct Message {
  std::string channel;      // queue or topic name
  std::string subscriber;   // topic messages: the subscription; empty for a queue
  std::uint64_t offset = 0; // position in the channel: 1, 2, ... in send order
  std::uint64_t lease = 0;  // this delivery's lease token (what ack and nack present)
  std::uint32_t deliveries = 0;  // 1 the first time it is handed out, +1 each redelivery
  std::int64_t sent_ms = 0;      // the leader's clock when it was sent
  std::int64_t lease_deadline_ms = 0;  // the leader's clock; ack before this
  std::string body;
};

struct SubscriberStats {
  std::string name;
  std::uint64_t lag = 0;        // messages published to it that it has not acked
  std::uint64_t in_flight = 0;  // leased now
  std::uint64_t acked = 0;      // acked in total
  std::uint64_t dead_letters = 0;
  std::uint64_t skipped = 0;    // dropped by retention before it acked them
};

struct ChannelStats {
  std::string name;
  bool topic = false;
  std::uint64_t depth = 0;       // messages held (queue: waiting + leased)
  std::uint64_t in_flight = 0;   // queue: leased now
  std::int64_t oldest_age_ms = 0;  // age of the oldest message held (0 when empty)
  std::uint64_t dead_letters = 0;  // queue: moved to the dead-letter queue in total
  std::uint64_t sent = 0;          // sends / publishes in total
  std::uint64_t acked = 0;         // queue: acked in total
  std::uint64_t bytes = 0;         // memory charged for the messages held: bodies + 64 each
  ChannelOptions options;          // the rules in force (zeros filled in)
  std::vector<SubscriberStats> subscribers;  // topic: one per durable subscription
};

struct SubscribeOptions {
  // Where a new subscription starts: false = with the next message published (default),
  // true = with the oldest message the topic still holds. An existing one keeps its cursor.
  bool from_oldest = false;
};

class Mq {
 public:
  using SendCallback = std::function<void(Result<std::uint64_t>)>;

  // Connects to the park group. Errors: unavailable, unauthenticated, config_error.
  static Result<std::unique_ptr<Mq>> connect(const MqOptions& options);
  static Result<std::unique_ptr<Mq>> connect(const Config& config);

  virtual ~Mq() = default;

  // Errors common to every call: bad_request (bad name: empty, over the park's MAXNAME,
  // control characters or '/'; a queue call on a topic or the reverse), too_large (a body
  // over MAXMESSAGE), park_full (the park's memory guard), unavailable, timeout.

  // --- channels ------------------------------------------------------------------------
  // Makes the channel with these rules; a channel that exists already keeps its rules
  // (and its kind: making a queue where a topic is is bad_request). Sending, publishing,
  // receiving and subscribing make missing channels with the MQ row's rules.
  virtual Status create_queue(std::string_view name, const ChannelOptions& options = {}) = 0;
  virtual Status create_topic(std::string_view name, const ChannelOptions& options = {}) = 0;
  // Deletes the channel with its messages and subscriptions. Errors: not_found.
  virtual Status remove_channel(std::string_view name) = 0;
  virtual Result<std::vector<std::string>> list_channels() = 0;
  virtual Result<ChannelStats> stats(std::string_view name) = 0;  // Errors: not_found

  // --- queues --------------------------------------------------------------------------
  // Appends; returns the message's offset once the park group holds it durably.
  virtual Result<std::uint64_t> send(std::string_view queue, std::string_view body) = 0;
  // Appends all, in order, as one log entry; returns their offsets.
  virtual Result<std::vector<std::uint64_t>> send_batch(std::string_view queue,
                                                        const std::vector<std::string>& bodies) = 0;
  // Returns at once; done gets the offset. Sends of one client to one queue keep their
  // order; sends made while earlier ones travel are batched together.
  virtual void async_send(std::string_view queue, std::string_view body, SendCallback done) = 0;

  // Leases up to max available messages, oldest first; waits up to `wait` for one to
  // arrive. An empty vector means the wait ended with nothing available.
  virtual Result<std::vector<Message>> receive(std::string_view queue, std::size_t max,
                                               std::chrono::milliseconds wait) = 0;
  // One message, or nothing when the wait ended.
  virtual Result<std::optional<Message>> receive_one(std::string_view queue, std::chrono::milliseconds wait) = 0;

  // --- topics --------------------------------------------------------------------------
  virtual Result<std::uint64_t> publish(std::string_view topic, std::string_view body) = 0;
  virtual void async_publish(std::string_view topic, std::string_view body, SendCallback done) = 0;
  // Makes the durable subscription (nothing happens if it exists). Errors: bad_request.
  virtual Status subscribe(std::string_view topic, std::string_view subscriber, const SubscribeOptions& options = {}) = 0;
  // Deletes the subscription and its cursor. Errors: not_found.
  virtual Status unsubscribe(std::string_view topic, std::string_view subscriber) = 0;
  // Leases up to max of the subscription's messages (see receive). Errors: not_found (no
  // such subscription).
  virtual Result<std::vector<Message>> receive(std::string_view topic, std::string_view subscriber, std::size_t max,
                                               std::chrono::milliseconds wait) = 0;

  // --- acknowledgements (queue and topic messages alike) ---------------------------------
  // Done with it: it is never delivered again. Errors: not_found (the lease is unknown or
  // ran out; the message is or will be delivered again).
  virtual Status ack(const Message& message) = 0;
  // Acks all that still hold their lease; the first failure is returned, the rest applied.
  virtual Status ack(const std::vector<Message>& messages) = 0;
  // The same, returning at once: a consumer may receive its next batch while the acks of the
  // last one travel. done (may be empty) gets what ack would have returned.
  virtual void async_ack(const std::vector<Message>& messages, std::function<void(Status)> done) = 0;
  // Gives it back now, to be delivered again (or dead-lettered after max_deliveries).
  virtual Status nack(const Message& message) = 0;
  // Extends the lease by the channel's lease time from now. Errors: not_found.
  virtual Status extend(const Message& message) = 0;

  // The park client underneath (its session owns this consumer's leases).
  virtual Park& park() = 0;
};

}  // namespace fourinone
