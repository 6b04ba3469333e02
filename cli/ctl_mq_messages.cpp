// fourinone ctl mq send|receive|ack|nack: moving messages from the shell.
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/ctl_mq.hpp"

namespace fourinone::cli::mqctl {

const char* const kLeaseNote =
    "fourinone ctl mq: not acked. Their leases end when this command exits (its park session\n"
    "closes): the messages are available again at once, with deliveries + 1, and `mq ack` or\n"
    "`mq nack` with these LEASE tokens will answer not_found.\n";

namespace {

// The bodies to send: the BODY argument, or else every line of stdin.
std::vector<std::string> bodies_to_send(const std::vector<std::string>& words) {
  if (words.size() == 2) return {words[1]};
  std::vector<std::string> bodies;
  std::string line;
  while (std::getline(std::cin, line)) bodies.push_back(std::move(line));
  return bodies;
}

// Publishes every body at once (the client packs them into as few requests as it can, in
// order) and waits for all the answers. offsets[i] stays 0 where bodies[i] failed; the
// first failure is returned.
Status publish_all(Mq& mq, const std::string& topic, const std::vector<std::string>& bodies,
                   std::vector<std::uint64_t>& offsets) {
  struct Gather {
    std::mutex mutex;
    std::condition_variable done;
    std::size_t left = 0;
    Status first_error;
  };
  auto gather = std::make_shared<Gather>();
  gather->left = bodies.size();
  offsets.assign(bodies.size(), 0);
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    // offsets outlives the callbacks: this function waits for the last one below.
    mq.async_publish(topic, bodies[i], [gather, &offsets, i](Result<std::uint64_t> r) {
      std::lock_guard lock(gather->mutex);
      if (r.ok()) {
        offsets[i] = r.value();
      } else if (gather->first_error.ok()) {
        gather->first_error = r.status();
      }
      if (--gather->left == 0) gather->done.notify_all();
    });
  }
  std::unique_lock lock(gather->mutex);
  gather->done.wait(lock, [&] { return gather->left == 0; });
  return gather->first_error;
}

// OFFSET and LEASE of ack/nack as the Message the API settles.
Result<Message> leased_message(const std::vector<std::string>& words, const Flags& flags) {
  auto offset = parse_int("OFFSET", words[1]);
  if (!offset.ok()) return offset.status();
  auto lease = parse_int("LEASE", words[2]);
  if (!lease.ok()) return lease.status();
  if (offset.value() <= 0 || lease.value() <= 0) {
    return Status(Errc::bad_request, "OFFSET and LEASE are numbers from 1 up, as receive --no-ack prints them");
  }
  Message m;
  m.channel = words[0];
  m.subscriber = flags.subscriber;
  m.offset = static_cast<std::uint64_t>(offset.value());
  m.lease = static_cast<std::uint64_t>(lease.value());
  return m;
}

int settle(Mq& mq, const std::vector<std::string>& words, const Flags& flags, bool done) {
  auto m = leased_message(words, flags);
  if (!m.ok()) return fail(m.status()), 2;
  Status s = done ? mq.ack(m.value()) : mq.nack(m.value());
  return s.ok() ? 0 : fail(s);
}

}  // namespace

int send(Mq& mq, const std::vector<std::string>& words, const Flags& flags) {
  auto bodies = bodies_to_send(words);
  if (bodies.empty()) return fail(Status(Errc::bad_request, "nothing to send: no BODY and no line on stdin"));
  if (!flags.topic) {
    // One batch: one log entry, all or nothing.
    auto offsets = mq.send_batch(words[0], bodies);
    if (!offsets.ok()) return fail(offsets.status());
    for (auto offset : offsets.value()) std::cout << offset << "\n";
    return 0;
  }
  std::vector<std::uint64_t> offsets;
  Status s = publish_all(mq, words[0], bodies, offsets);
  std::size_t published = 0;
  for (auto offset : offsets) {
    if (offset == 0) continue;
    std::cout << offset << "\n";  // published for good, whatever happened to the others
    ++published;
  }
  std::cout.flush();
  if (s.ok()) return 0;
  return fail(Status(s.code(), s.message() + " (" + std::to_string(published) + " of " +
                                   std::to_string(bodies.size()) + " messages published)"));
}

int receive(Mq& mq, const std::vector<std::string>& words, const Flags& flags) {
  auto got = flags.subscriber.empty() ? mq.receive(words[0], flags.max, flags.wait)
                                      : mq.receive(words[0], flags.subscriber, flags.max, flags.wait);
  if (!got.ok()) return fail(got.status());
  for (const auto& m : got.value()) {
    std::cout << m.offset << " " << m.deliveries << " ";
    if (flags.no_ack) std::cout << m.lease << " ";
    std::cout << m.body << "\n";
  }
  std::cout.flush();
  if (flags.no_ack) {
    if (!got->empty()) std::cerr << kLeaseNote;
    return 0;
  }
  // Acked only once they are out: if printing failed or this process dies first, they come
  // back to be delivered again (at least once, never lost).
  if (!std::cout) {
    return fail(Status(Errc::internal, "could not write the messages out; not acked, they will be delivered again"));
  }
  Status s = mq.ack(got.value());
  return s.ok() ? 0 : fail(s);
}

int ack(Mq& mq, const std::vector<std::string>& words, const Flags& flags) { return settle(mq, words, flags, true); }

int nack(Mq& mq, const std::vector<std::string>& words, const Flags& flags) { return settle(mq, words, flags, false); }

}  // namespace fourinone::cli::mqctl
