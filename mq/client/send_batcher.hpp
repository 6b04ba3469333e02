// SendBatcher: turns many small sends into few log entries without adding delay.
//
// Per channel, up to max_in_flight requests travel at once. A send made while that many are
// out waits in the channel's line; when a request comes back, everything waiting (up to
// max_batch messages) goes out as the next request. An idle channel sends at once, so a lone
// send pays one round trip and a busy channel pays one log entry per batch.
//
// Order: requests are submitted under the lock in the order their messages were added, and
// the park client keeps one connection with increasing seqs, so one client's sends to one
// channel are applied in the order they were added.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "fourinone/error.hpp"

namespace fourinone::mq {

class SendBatcher {
 public:
  using Deliver = std::function<void(Result<std::uint64_t>)>;  // one message's offset
  using BatchDone = std::function<void(Result<std::vector<std::uint64_t>>)>;
  // Sends one request; called with the lock held, so it must only hand the work on.
  using Submit = std::function<void(const std::string& channel, bool topic, std::vector<std::string> bodies,
                                    BatchDone done)>;

  SendBatcher(std::size_t max_in_flight, std::size_t max_batch, Submit submit)
      : max_in_flight_(std::max<std::size_t>(1, max_in_flight)),
        max_batch_(std::max<std::size_t>(1, max_batch)),
        submit_(std::move(submit)) {}

  void add(const std::string& channel, bool topic, std::string body, Deliver deliver);

 private:
  struct Waiting {
    std::string body;
    Deliver deliver;
  };
  struct Line {
    std::deque<Waiting> waiting;
    std::size_t in_flight = 0;
  };
  using Key = std::pair<std::string, bool>;

  void send_next_locked(const Key& key, Line& line);

  const std::size_t max_in_flight_;
  const std::size_t max_batch_;
  Submit submit_;
  std::mutex mutex_;
  std::map<Key, Line> lines_;
};

}  // namespace fourinone::mq
