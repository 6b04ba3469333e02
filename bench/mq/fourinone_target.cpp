// Our message queue as mq_bench sees it: fourinone::Mq, the client users link, one Mq (its own
// park session and socket) per producer or consumer, against the park group named by the
// client config.xml.
//
// Producers use async_send (topic: async_publish); mq_bench keeps its window of sends
// outstanding, and the client batches those that wait into its next request. Consumers
// receive(queue, B, wait) (topic: receive(topic, subscriber, B, wait) on one durable
// subscription), then ack the whole batch with one ack(vector). Every send, lease and ack is
// an entry of the park's replicated log, fsynced on a majority before it is answered.
#include <future>
#include <iostream>
#include <memory>

#include "fourinone/config.hpp"
#include "fourinone/mq.hpp"
#include "target.hpp"

namespace mqbench {
namespace {

constexpr std::string_view kSubscriber = "bench";

class FourinoneProducer final : public Producer {
 public:
  FourinoneProducer(std::unique_ptr<fourinone::Mq> mq, Flow flow, std::string channel)
      : mq_(std::move(mq)), flow_(flow), channel_(std::move(channel)) {}

  void async_send(std::string body, SendDone done) override {
    auto finish = [done = std::move(done)](fourinone::Result<std::uint64_t> r) {
      done(r.ok(), r.ok() ? std::string() : "fourinone: " + r.status().to_string());
    };
    if (flow_ == Flow::queue) mq_->async_send(channel_, body, std::move(finish));
    else mq_->async_publish(channel_, body, std::move(finish));
  }

 private:
  std::unique_ptr<fourinone::Mq> mq_;
  Flow flow_;
  std::string channel_;
};

class FourinoneConsumer final : public Consumer {
 public:
  FourinoneConsumer(std::unique_ptr<fourinone::Mq> mq, Flow flow, std::string channel)
      : mq_(std::move(mq)), flow_(flow), channel_(std::move(channel)) {}

  std::string receive(std::size_t max, std::chrono::milliseconds wait, std::vector<std::string>& bodies) override {
    auto r = flow_ == Flow::queue ? mq_->receive(channel_, max, wait) : mq_->receive(channel_, kSubscriber, max, wait);
    if (!r.ok()) return "fourinone: receive: " + r.status().to_string();
    leased_ = std::move(r.value());
    // The bodies move out; the leases (what ack presents) stay.
    for (fourinone::Message& m : leased_) bodies.push_back(std::move(m.body));
    return {};
  }

  // async_ack with one batch's ack in flight at most: the next receive travels with it, as
  // a consumer that wants throughput would write it. The previous ack's answer is awaited
  // (and its error reported) before the next one goes out.
  std::string ack() override {
    std::string error = wait_for_ack();
    if (leased_.empty() || !error.empty()) return error;
    auto done = std::make_shared<std::promise<fourinone::Status>>();
    ack_done_ = done->get_future();
    mq_->async_ack(leased_, [done](fourinone::Status s) { done->set_value(std::move(s)); });
    leased_.clear();
    return {};
  }

  ~FourinoneConsumer() override { wait_for_ack(); }

 private:
  std::unique_ptr<fourinone::Mq> mq_;
  Flow flow_;
  std::string channel_;
  std::string wait_for_ack() {
    if (!ack_done_.valid()) return {};
    fourinone::Status s = ack_done_.get();
    return s.ok() ? std::string() : "fourinone: ack: " + s.to_string();
  }

  std::vector<fourinone::Message> leased_;  // the last receive's, until acked
  std::future<fourinone::Status> ack_done_;  // the ack in flight, if any
};

class FourinoneTarget final : public Target {
 public:
  explicit FourinoneTarget(TargetOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "fourinone"; }

  std::string describe(Flow flow) const override {
    std::string window = std::to_string(options_.window), batch = std::to_string(options_.batch);
    if (flow == Flow::topic)
      return "async_publish, up to " + window + " outstanding; one durable subscription, receive(topic, sub, " +
             batch + ", wait) then async_ack(vector), one batch's ack in flight while the next receive travels; fsync on, 3-server park group";
    return "async_send, up to " + window + " outstanding per producer (the client batches what waits); " +
           "receive(queue, " + batch + ", wait) then async_ack(vector), one batch's ack in flight while the next receive travels; fsync on, 3-server park group";
  }

  std::unique_ptr<Producer> producer(Flow flow, const std::string& channel, int) override {
    auto mq = connect();
    if (!mq) return nullptr;
    return std::make_unique<FourinoneProducer>(std::move(mq), flow, channel);
  }

  std::unique_ptr<Consumer> consumer(Flow flow, const std::string& channel, int) override {
    auto mq = connect();
    if (!mq) return nullptr;
    // Made before any message is sent: a new subscription starts with the next publish.
    fourinone::Status s = flow == Flow::queue ? mq->create_queue(channel) : mq->create_topic(channel);
    if (s.ok() && flow == Flow::topic) s = mq->subscribe(channel, kSubscriber);
    if (!s.ok()) {
      std::cerr << "fourinone: setting up " << channel << ": " << s.to_string() << "\n";
      return nullptr;
    }
    return std::make_unique<FourinoneConsumer>(std::move(mq), flow, channel);
  }

 private:
  std::unique_ptr<fourinone::Mq> connect() {
    auto config = fourinone::load_config(options_.config);
    if (!config.ok()) {
      std::cerr << "fourinone: " << config.status().to_string() << "\n";
      return nullptr;
    }
    auto mq = fourinone::Mq::connect(config.value());
    if (!mq.ok()) {
      std::cerr << "fourinone: cannot connect: " << mq.status().to_string() << "\n";
      return nullptr;
    }
    return std::move(mq.value());
  }

  TargetOptions options_;
};

}  // namespace

std::unique_ptr<Target> make_fourinone_target(const TargetOptions& options) {
  return std::make_unique<FourinoneTarget>(options);
}

}  // namespace mqbench
