// fourinone ctl mq stat|ls|create|rm|subscribe|unsubscribe: looking after channels from the
// shell.
#include <iostream>

#include "cli/args.hpp"
#include "cli/ctl_mq.hpp"

namespace fourinone::cli::mqctl {
namespace {

const char* kind_name(bool topic) { return topic ? "topic" : "queue"; }

// The rule fields asked for (non-zero) that differ from the ones in force.
bool rules_differ(const ChannelOptions& asked, const ChannelOptions& held) {
  return (asked.max_count != 0 && asked.max_count != held.max_count) ||
         (asked.max_age.count() != 0 && asked.max_age != held.max_age) ||
         (asked.max_deliveries != 0 && asked.max_deliveries != held.max_deliveries) ||
         (asked.lease.count() != 0 && asked.lease != held.lease);
}

}  // namespace

int stat(Mq& mq, const std::vector<std::string>& words, const Flags&) {
  auto s = mq.stats(words[0]);
  if (!s.ok()) return fail(s.status());
  const ChannelStats& c = s.value();
  std::cout << "name: " << c.name << "\nkind: " << kind_name(c.topic) << "\ndepth: " << c.depth
            << "\nin_flight: " << c.in_flight << "\noldest_age_ms: " << c.oldest_age_ms
            << "\ndead_letters: " << c.dead_letters << "\nsent: " << c.sent << "\nacked: " << c.acked
            << "\nbytes: " << c.bytes << "\nmax_count: " << c.options.max_count
            << "\nmax_age_ms: " << c.options.max_age.count() << "\nmax_deliveries: " << c.options.max_deliveries
            << "\nlease_ms: " << c.options.lease.count() << "\n";
  for (const auto& sub : c.subscribers) {
    std::cout << "subscriber: " << sub.name << " lag " << sub.lag << " in_flight " << sub.in_flight << " acked "
              << sub.acked << " dead_letters " << sub.dead_letters << " skipped " << sub.skipped << "\n";
  }
  std::cout.flush();
  return 0;
}

int list(Mq& mq, const std::vector<std::string>&, const Flags&) {
  auto names = mq.list_channels();
  if (!names.ok()) return fail(names.status());
  for (const auto& name : names.value()) {
    auto s = mq.stats(name);
    if (!s.ok() && s.status().code() == Errc::not_found) continue;  // removed since the listing
    if (!s.ok()) return fail(s.status());
    std::cout << name << " " << kind_name(s->topic) << " " << s->depth << "\n";
  }
  std::cout.flush();
  return 0;
}

int create(Mq& mq, const std::vector<std::string>& words, const Flags& flags) {
  Status made = flags.topic ? mq.create_topic(words[0], flags.rules) : mq.create_queue(words[0], flags.rules);
  if (!made.ok()) return fail(made);
  // Creating a channel that exists succeeds and changes nothing; tell whoever asked for other
  // rules, or they would believe they are in force.
  const ChannelOptions none;
  if (rules_differ(flags.rules, none)) {
    auto s = mq.stats(words[0]);
    if (s.ok() && rules_differ(flags.rules, s->options)) {
      std::cerr << "fourinone ctl mq: " << words[0]
                << " existed already and keeps its rules (mq stat shows them; mq rm and create to change)\n";
    }
  }
  return 0;
}

int remove(Mq& mq, const std::vector<std::string>& words, const Flags&) {
  Status s = mq.remove_channel(words[0]);
  return s.ok() ? 0 : fail(s);
}

int subscribe(Mq& mq, const std::vector<std::string>& words, const Flags& flags) {
  SubscribeOptions o;
  o.from_oldest = flags.from_oldest;
  Status s = mq.subscribe(words[0], words[1], o);
  return s.ok() ? 0 : fail(s);
}

int unsubscribe(Mq& mq, const std::vector<std::string>& words, const Flags&) {
  Status s = mq.unsubscribe(words[0], words[1]);
  return s.ok() ? 0 : fail(s);
}

}  // namespace fourinone::cli::mqctl
