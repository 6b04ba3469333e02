// QueueBook::apply and the primitives it is made of (see queue_book.hpp).
#include "park/queue/queue_book.hpp"

#include <algorithm>

#include "park/store/store.hpp"

namespace fourinone::park {
namespace {

std::string quoted(std::string_view s) { return "'" + std::string(s.substr(0, 64)) + (s.size() > 64 ? "...'" : "'"); }

bool ends_with_dlq(std::string_view name) {
  return name.size() >= kDeadLetterSuffix.size() &&
         name.substr(name.size() - kDeadLetterSuffix.size()) == kDeadLetterSuffix;
}

std::string dead_letter_name(const std::string& channel, const std::string& subscriber) {
  return subscriber.empty() ? channel + std::string(kDeadLetterSuffix)
                            : channel + "." + subscriber + std::string(kDeadLetterSuffix);
}

std::string where(std::string_view channel, std::string_view subscriber) {
  return subscriber.empty() ? "queue " + quoted(channel) : "subscription " + quoted(subscriber) + " of topic " + quoted(channel);
}

}  // namespace

Status QueueBook::check_channel_name(std::string_view name, bool topic) const {
  // Room for the dead-letter queue's suffix is kept, so dead-lettering can never fail.
  if (std::string why = check_name(name, max_name_ - std::min(max_name_, kDeadLetterSuffix.size())); !why.empty()) {
    return Status(Errc::bad_request, "channel name " + quoted(name) + ": " + why);
  }
  if (topic && ends_with_dlq(name)) {
    return Status(Errc::bad_request, "channel name " + quoted(name) + ": names ending in .dlq are dead-letter queues");
  }
  return {};
}

const MqChannel* QueueBook::find(std::string_view name) const {
  auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : &it->second;
}

std::vector<std::string> QueueBook::names() const {
  std::vector<std::string> out;
  for (const auto& [name, ch] : channels_) out.push_back(name);
  return out;
}

MqChannel& QueueBook::make_channel(const std::string& name, bool topic, const MqRules& rules) {
  MqChannel& ch = channels_[name];
  ch.topic = topic;
  ch.rules = rules;
  if (!topic) ch.cursors[""];
  return ch;
}

Result<MqChannel*> QueueBook::channel_for(const MqCommand& c, bool create_missing) {
  auto it = channels_.find(c.channel);
  if (it == channels_.end()) {
    if (!create_missing) {
      return Status(Errc::not_found, std::string(c.topic ? "topic " : "queue ") + quoted(c.channel) + " does not exist");
    }
    if (Status s = check_channel_name(c.channel, c.topic); !s.ok()) return s;
    return &make_channel(c.channel, c.topic, c.rules);
  }
  if (it->second.topic != c.topic) {
    return Status(Errc::bad_request, quoted(c.channel) + " is a " + (it->second.topic ? "topic" : "queue") +
                                         (it->second.topic ? ": publish and subscribe to it" : ": send to it and receive from it"));
  }
  return &it->second;
}

Status QueueBook::apply(const MqCommand& c, std::int64_t now_ms, const SessionAlive& session_alive, MqResult& out) {
  switch (c.kind) {
    case MqKind::create: {
      auto ch = channel_for(c, true);
      return ch.ok() ? Status{} : ch.status();
    }
    case MqKind::remove: {
      if (channels_.find(c.channel) == channels_.end()) {
        return Status(Errc::not_found, "channel " + quoted(c.channel) + " does not exist");
      }
      remove_channel(c.channel);
      return {};
    }
    case MqKind::send: {
      auto ch = channel_for(c, true);
      if (!ch.ok()) return ch.status();
      return send(**ch, c, now_ms, out);
    }
    case MqKind::receive: {
      if (c.session != 0 && !session_alive(c.session)) {
        return Status(Errc::session_expired, "session " + std::to_string(c.session) + " has ended");
      }
      if (c.max == 0) return Status(Errc::bad_request, "receive of 0 messages");
      // A queue is made by its first receiver; a topic's subscription must exist.
      auto ch = channel_for(c, !c.topic);
      if (!ch.ok()) {
        if (ch.status().code() == Errc::not_found) {
          return Status(Errc::not_found, where(c.channel, c.subscriber) + " does not exist: subscribe first");
        }
        return ch.status();
      }
      return receive(**ch, c, now_ms, out);
    }
    case MqKind::ack:
    case MqKind::nack:
    case MqKind::extend:
    case MqKind::expire_leases:
      return settle(c, now_ms, out);
    case MqKind::subscribe: {
      auto ch = channel_for(c, true);
      if (!ch.ok()) return ch.status();
      return subscribe(**ch, c, out);
    }
    case MqKind::unsubscribe: {
      auto it = channels_.find(c.channel);
      if (it == channels_.end() || !it->second.topic || !it->second.cursors.count(c.subscriber)) {
        return Status(Errc::not_found, where(c.channel, c.subscriber) + " does not exist");
      }
      MqChannel& ch = it->second;
      MqCursor& cur = ch.cursors.find(c.subscriber)->second;
      while (!cur.leased.empty()) drop_lease(c.channel, c.subscriber, cur.leased.begin()->first, cur);
      ch.cursors.erase(c.subscriber);
      collect(c.channel, ch);
      return {};
    }
    case MqKind::age_out:
      age_out(c, now_ms, out);
      return {};
  }
  return Status(Errc::bad_request, "unknown queue command " + std::to_string(static_cast<unsigned>(c.kind)));
}

Status QueueBook::send(MqChannel& ch, const MqCommand& c, std::int64_t now_ms, MqResult& out) {
  if (c.bodies.empty()) return Status(Errc::bad_request, "a send needs at least one message");
  if (!ch.topic && ch.rules.max_count != 0 && ch.messages.size() + c.bodies.size() > ch.rules.max_count) {
    return Status(Errc::park_full, "queue " + quoted(c.channel) + " holds " + std::to_string(ch.messages.size()) +
                                       " messages; its limit is " + std::to_string(ch.rules.max_count) +
                                       " (max_count): receive and ack first");
  }
  for (const std::string& body : c.bodies) {
    out.offsets.push_back(ch.next_offset);
    append(ch, now_ms, body);
  }
  ch.sent_total += c.bodies.size();
  for (const auto& [name, cur] : ch.cursors) out.woken.emplace_back(c.channel, name);
  if (ch.topic) collect(c.channel, ch);
  return {};
}

void QueueBook::append(MqChannel& ch, std::int64_t sent_ms, std::string body) {
  std::uint64_t charge = body.size() + kMqMessageOverhead;
  ch.messages.emplace_hint(ch.messages.end(), ch.next_offset++, MqStored{sent_ms, std::move(body)});
  ch.bytes += charge;
  bytes_ += charge;
}

void QueueBook::erase_message(MqChannel& ch, std::map<std::uint64_t, MqStored>::iterator it) {
  std::uint64_t charge = it->second.body.size() + kMqMessageOverhead;
  ch.bytes -= charge;
  bytes_ -= charge;
  ch.messages.erase(it);
}

Status QueueBook::receive(MqChannel& ch, const MqCommand& c, std::int64_t now_ms, MqResult& out) {
  auto cur_it = ch.cursors.find(c.subscriber);
  if (cur_it == ch.cursors.end()) {
    return Status(Errc::not_found, where(c.channel, c.subscriber) + " does not exist: subscribe first");
  }
  MqCursor& cur = cur_it->second;
  while (out.delivered.size() < c.max) {
    std::uint64_t offset = 0;
    if (!cur.returned.empty()) {
      offset = *cur.returned.begin();
      cur.returned.erase(cur.returned.begin());
    } else {
      auto it = ch.messages.lower_bound(cur.next);
      if (it == ch.messages.end()) break;
      offset = it->first;
      cur.next = offset + 1;
    }
    auto msg = ch.messages.find(offset);
    if (msg == ch.messages.end()) continue;  // gone meanwhile (retention)
    MqLease lease{next_token_++, now_ms + ch.rules.lease_ms, c.session};
    std::uint32_t count = ++cur.deliveries[offset];
    add_lease(c.channel, c.subscriber, offset, lease, cur);
    out.delivered.push_back(
        MqDelivery{c.channel, c.subscriber, offset, lease.token, count, msg->second.sent_ms, lease.deadline_ms, msg->second.body});
  }
  return {};
}

Status QueueBook::settle(const MqCommand& c, std::int64_t now_ms, MqResult& out) {
  Status first;
  for (const MqLeaseRef& ref : c.refs) {
    auto ch_it = channels_.find(ref.channel);
    MqChannel* ch = ch_it == channels_.end() ? nullptr : &ch_it->second;
    MqCursor* cur = nullptr;
    if (ch != nullptr) {
      auto it = ch->cursors.find(ref.subscriber);
      if (it != ch->cursors.end()) cur = &it->second;
    }
    auto lease = cur ? cur->leased.find(ref.offset) : std::map<std::uint64_t, MqLease>::iterator{};
    bool held = cur != nullptr && lease != cur->leased.end() && lease->second.token == ref.token;
    if (held && c.kind == MqKind::expire_leases && lease->second.deadline_ms > now_ms) held = false;  // extended
    if (!held) {
      if (c.kind != MqKind::expire_leases && first.ok()) {
        first = Status(Errc::not_found, "the lease of message " + std::to_string(ref.offset) + " in " +
                                            where(ref.channel, ref.subscriber) +
                                            " is unknown or ran out (the message is delivered again)");
      }
      continue;
    }
    ++out.applied;
    switch (c.kind) {
      case MqKind::ack:
        drop_lease(ref.channel, ref.subscriber, ref.offset, *cur);
        acked(ref.channel, *ch, *cur, ref.offset);
        break;
      case MqKind::extend: {
        MqLease renewed = lease->second;
        renewed.deadline_ms = now_ms + ch->rules.lease_ms;
        drop_lease(ref.channel, ref.subscriber, ref.offset, *cur);
        add_lease(ref.channel, ref.subscriber, ref.offset, renewed, *cur);
        break;
      }
      default:  // nack, expire_leases
        drop_lease(ref.channel, ref.subscriber, ref.offset, *cur);
        give_back(ref.channel, *ch, ref.subscriber, *cur, ref.offset, out);
        break;
    }
  }
  return first;
}

void QueueBook::acked(const std::string& ch_name, MqChannel& ch, MqCursor& cur, std::uint64_t offset) {
  cur.deliveries.erase(offset);
  ++cur.acked_total;
  if (!ch.topic) {
    if (auto it = ch.messages.find(offset); it != ch.messages.end()) erase_message(ch, it);
    return;
  }
  if (offset >= cur.floor) cur.acked.insert(offset);
  collect(ch_name, ch);
}

void QueueBook::give_back(const std::string& ch_name, MqChannel& ch, const std::string& sub, MqCursor& cur,
                          std::uint64_t offset, MqResult& out) {
  auto count = cur.deliveries.find(offset);
  if (ch.rules.max_deliveries != 0 && count != cur.deliveries.end() && count->second >= ch.rules.max_deliveries) {
    dead_letter(ch_name, ch, sub, cur, offset, out);
    return;
  }
  cur.returned.insert(offset);
  out.woken.emplace_back(ch_name, sub);
}

void QueueBook::dead_letter(const std::string& ch_name, MqChannel& ch, const std::string& sub, MqCursor& cur,
                            std::uint64_t offset, MqResult& out) {
  auto msg = ch.messages.find(offset);
  cur.deliveries.erase(offset);
  cur.returned.erase(offset);
  if (msg == ch.messages.end()) return;
  ++cur.dead_total;
  std::string dlq_name = dead_letter_name(ch_name, sub);
  auto dlq_it = channels_.find(dlq_name);
  if (dlq_it == channels_.end()) {
    // A dead-letter queue keeps what it gets: no bounds, no dead-lettering of its own.
    MqRules rules;
    rules.max_deliveries = 0;
    rules.lease_ms = ch.rules.lease_ms;
    // (A topic never ends in .dlq: check_channel_name refuses it.)
    make_channel(dlq_name, false, rules);
    dlq_it = channels_.find(dlq_name);
  }
  MqChannel& dlq = dlq_it->second;
  append(dlq, msg->second.sent_ms, ch.topic ? msg->second.body : std::move(msg->second.body));
  ++dlq.sent_total;
  out.woken.emplace_back(dlq_name, "");
  if (!ch.topic) {
    erase_message(ch, ch.messages.find(offset));
  } else {
    if (offset >= cur.floor) cur.acked.insert(offset);
    collect(ch_name, ch);
  }
}

Status QueueBook::subscribe(MqChannel& ch, const MqCommand& c, MqResult& out) {
  if (c.subscriber.empty()) return Status(Errc::bad_request, "a subscription needs a subscriber name");
  std::string dlq = dead_letter_name(c.channel, c.subscriber);
  if (std::string why = check_name(c.subscriber, max_name_); !why.empty() || dlq.size() > max_name_) {
    return Status(Errc::bad_request, "subscriber name " + quoted(c.subscriber) + ": " +
                                         (why.empty() ? "too long: the dead-letter queue " + quoted(dlq) +
                                                            " must fit the park's MAXNAME"
                                                      : why));
  }
  if (ch.cursors.count(c.subscriber)) return {};
  MqCursor cur;
  cur.next = c.from_oldest && !ch.messages.empty() ? ch.messages.begin()->first : ch.next_offset;
  cur.floor = cur.next;
  ch.cursors.emplace(c.subscriber, std::move(cur));
  if (c.from_oldest) out.woken.emplace_back(c.channel, c.subscriber);
  collect(c.channel, ch);
  return {};
}

void QueueBook::age_out(const MqCommand& c, std::int64_t now_ms, MqResult& out) {
  for (const MqLeaseRef& ref : c.refs) {
    auto ch_it = channels_.find(ref.channel);
    if (ch_it == channels_.end()) continue;
    MqChannel& ch = ch_it->second;
    auto msg = ch.messages.find(ref.offset);
    if (ch.rules.max_age_ms == 0 || msg == ch.messages.end() || now_ms - msg->second.sent_ms < ch.rules.max_age_ms) continue;
    if (ch.topic) {
      trim(ref.channel, ch, ref.offset);
      collect(ref.channel, ch);
    } else {
      MqCursor& cur = ch.cursors.at("");
      if (cur.leased.count(ref.offset)) continue;  // its consumer decides; age counts once it is back
      ++out.applied;
      dead_letter(ref.channel, ch, "", cur, ref.offset, out);
      continue;
    }
    ++out.applied;
  }
}

void QueueBook::trim(const std::string& ch_name, MqChannel& ch, std::uint64_t offset) {
  for (auto& [sub, cur] : ch.cursors) {
    if (offset >= cur.floor && !cur.acked.count(offset)) ++cur.skipped_total;
    drop_lease(ch_name, sub, offset, cur);
    cur.returned.erase(offset);
    cur.deliveries.erase(offset);
    cur.acked.erase(offset);
  }
  if (auto it = ch.messages.find(offset); it != ch.messages.end()) erase_message(ch, it);
}

void QueueBook::advance_floor(const MqChannel& ch, MqCursor& cur) {
  while (cur.floor < cur.next) {
    if (cur.acked.erase(cur.floor)) {
      ++cur.floor;
      continue;
    }
    auto it = ch.messages.lower_bound(cur.floor);
    std::uint64_t present = it == ch.messages.end() ? cur.next : std::min(cur.next, it->first);
    if (present == cur.floor) break;  // a message it still owes an ack for
    cur.floor = present;
  }
}

void QueueBook::collect(const std::string& ch_name, MqChannel& ch) {
  for (auto& [sub, cur] : ch.cursors) advance_floor(ch, cur);
  bool retention = ch.rules.max_count != 0 || ch.rules.max_age_ms != 0;
  if (!retention) {
    std::uint64_t needed_from = ch.next_offset;
    for (const auto& [sub, cur] : ch.cursors) needed_from = std::min(needed_from, cur.floor);
    while (!ch.messages.empty() && ch.messages.begin()->first < needed_from) {
      // Below every floor: acked everywhere (or never wanted), but an out-of-order ack may
      // still be listed above a floor; those were erased from `acked` by advance_floor.
      erase_message(ch, ch.messages.begin());
    }
    return;
  }
  while (ch.rules.max_count != 0 && ch.messages.size() > ch.rules.max_count) trim(ch_name, ch, ch.messages.begin()->first);
  for (auto& [sub, cur] : ch.cursors) advance_floor(ch, cur);
}

void QueueBook::add_lease(const std::string& ch, const std::string& sub, std::uint64_t offset, const MqLease& lease,
                          MqCursor& cur) {
  cur.leased[offset] = lease;
  by_deadline_.emplace(lease.deadline_ms, ch, sub, offset);
  if (lease.session != 0) by_session_[lease.session].emplace(ch, sub, offset);
}

void QueueBook::drop_lease(const std::string& ch, const std::string& sub, std::uint64_t offset, MqCursor& cur) {
  auto it = cur.leased.find(offset);
  if (it == cur.leased.end()) return;
  by_deadline_.erase(LeaseKey{it->second.deadline_ms, ch, sub, offset});
  if (it->second.session != 0) {
    auto s = by_session_.find(it->second.session);
    if (s != by_session_.end()) {
      s->second.erase(Place{ch, sub, offset});
      if (s->second.empty()) by_session_.erase(s);
    }
  }
  cur.leased.erase(it);
}

void QueueBook::release_session(std::uint64_t session, MqResult& out) {
  auto s = by_session_.find(session);
  if (s == by_session_.end()) return;
  std::set<Place> places = std::move(s->second);
  by_session_.erase(s);
  for (const auto& [ch_name, sub, offset] : places) {
    MqChannel& ch = channels_.find(ch_name)->second;
    MqCursor& cur = ch.cursors.find(sub)->second;
    auto lease = cur.leased.find(offset);
    by_deadline_.erase(LeaseKey{lease->second.deadline_ms, ch_name, sub, offset});
    cur.leased.erase(lease);
    give_back(ch_name, ch, sub, cur, offset, out);
  }
}

void QueueBook::remove_channel(const std::string& name) {
  auto it = channels_.find(name);
  for (auto& [sub, cur] : it->second.cursors) {
    while (!cur.leased.empty()) drop_lease(name, sub, cur.leased.begin()->first, cur);
  }
  bytes_ -= it->second.bytes;
  channels_.erase(it);
}

std::size_t QueueBook::available(std::string_view channel, std::string_view subscriber, std::size_t cap) const {
  const MqChannel* ch = find(channel);
  if (ch == nullptr) return 0;
  auto cur_it = ch->cursors.find(subscriber);
  if (cur_it == ch->cursors.end()) return 0;
  const MqCursor& cur = cur_it->second;
  std::size_t n = std::min(cap, cur.returned.size());
  for (auto it = ch->messages.lower_bound(cur.next); it != ch->messages.end() && n < cap; ++it) ++n;
  return n;
}

std::vector<MqLeaseRef> QueueBook::expired_leases(std::int64_t now_ms, std::size_t max) const {
  std::vector<MqLeaseRef> out;
  for (const auto& [deadline, ch, sub, offset] : by_deadline_) {
    if (deadline > now_ms || out.size() >= max) break;
    const MqCursor& cur = channels_.find(ch)->second.cursors.find(sub)->second;
    out.push_back(MqLeaseRef{ch, sub, offset, cur.leased.at(offset).token});
  }
  return out;
}

std::vector<MqLeaseRef> QueueBook::aged_messages(std::int64_t now_ms, std::size_t max) const {
  std::vector<MqLeaseRef> out;
  for (const auto& [name, ch] : channels_) {
    if (ch.rules.max_age_ms == 0) continue;
    const MqCursor* queue_cursor = ch.topic ? nullptr : &ch.cursors.at("");
    // Offsets follow send order, and so (leader clocks aside) do send times.
    for (const auto& [offset, msg] : ch.messages) {
      if (out.size() >= max) return out;
      if (now_ms - msg.sent_ms < ch.rules.max_age_ms) break;
      if (queue_cursor && queue_cursor->leased.count(offset)) continue;
      out.push_back(MqLeaseRef{name, "", offset, 0});
    }
  }
  return out;
}

std::optional<ChannelStats> QueueBook::stats(std::string_view name, std::int64_t now_ms) const {
  const MqChannel* ch = find(name);
  if (ch == nullptr) return std::nullopt;
  ChannelStats s;
  s.name = std::string(name);
  s.topic = ch->topic;
  s.depth = ch->messages.size();
  s.oldest_age_ms = ch->messages.empty() ? 0 : std::max<std::int64_t>(0, now_ms - ch->messages.begin()->second.sent_ms);
  s.sent = ch->sent_total;
  s.bytes = ch->bytes;
  s.options.max_count = ch->rules.max_count;
  s.options.max_age = std::chrono::milliseconds(ch->rules.max_age_ms);
  s.options.max_deliveries = ch->rules.max_deliveries;
  s.options.lease = std::chrono::milliseconds(ch->rules.lease_ms);
  for (const auto& [sub, cur] : ch->cursors) {
    if (!ch->topic) {
      s.in_flight = cur.leased.size();
      s.dead_letters = cur.dead_total;
      s.acked = cur.acked_total;
      continue;
    }
    SubscriberStats sub_stats;
    sub_stats.name = sub;
    std::uint64_t held_from_floor = 0;
    for (auto it = ch->messages.lower_bound(cur.floor); it != ch->messages.end(); ++it) ++held_from_floor;
    sub_stats.lag = held_from_floor - std::min<std::uint64_t>(held_from_floor, cur.acked.size());
    sub_stats.in_flight = cur.leased.size();
    sub_stats.acked = cur.acked_total;
    sub_stats.dead_letters = cur.dead_total;
    sub_stats.skipped = cur.skipped_total;
    s.subscribers.push_back(std::move(sub_stats));
  }
  return s;
}

}  // namespace fourinone::park
