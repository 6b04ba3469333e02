// The pieces of `fourinone ctl mq ...` shared by its dispatcher (ctl_mq.cpp), the message
// commands (ctl_mq_messages.cpp) and the channel commands (ctl_mq_channels.cpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "fourinone/mq.hpp"

namespace fourinone::cli::mqctl {

// The mq options of one command line, checked and converted before anything is sent, so a
// typo never reaches the park.
struct Flags {
  std::size_t max = 1;                // --max: messages one receive may lease
  std::chrono::milliseconds wait{0};  // --wait: how long a receive waits for a message
  bool no_ack = false;                // --no-ack
  bool topic = false;                 // --topic: send publishes / create makes a topic
  bool from_oldest = false;           // --from-oldest
  std::string subscriber;             // --subscriber: receive/ack/nack from a subscription
  ChannelOptions rules;               // --max-count, --max-age, --max-deliveries, --lease
};

// `words` are the command's own arguments (after "mq COMMAND"). Each returns the exit code.
int send(Mq& mq, const std::vector<std::string>& words, const Flags& flags);
int receive(Mq& mq, const std::vector<std::string>& words, const Flags& flags);
int ack(Mq& mq, const std::vector<std::string>& words, const Flags& flags);
int nack(Mq& mq, const std::vector<std::string>& words, const Flags& flags);

int stat(Mq& mq, const std::vector<std::string>& words, const Flags& flags);
int list(Mq& mq, const std::vector<std::string>& words, const Flags& flags);
int create(Mq& mq, const std::vector<std::string>& words, const Flags& flags);
int remove(Mq& mq, const std::vector<std::string>& words, const Flags& flags);
int subscribe(Mq& mq, const std::vector<std::string>& words, const Flags& flags);
int unsubscribe(Mq& mq, const std::vector<std::string>& words, const Flags& flags);

// Printed to stderr by `receive --no-ack`: why a later `ack` cannot work.
extern const char* const kLeaseNote;

}  // namespace fourinone::cli::mqctl
