#include "mq/client/send_batcher.hpp"

#include <memory>

namespace fourinone::mq {

void SendBatcher::add(const std::string& channel, bool topic, std::string body, Deliver deliver) {
  std::lock_guard lock(mutex_);
  Key key{channel, topic};
  Line& line = lines_[key];
  line.waiting.push_back(Waiting{std::move(body), std::move(deliver)});
  if (line.in_flight < max_in_flight_) send_next_locked(key, line);
}

void SendBatcher::send_next_locked(const Key& key, Line& line) {
  std::size_t n = std::min(max_batch_, line.waiting.size());
  if (n == 0) return;
  std::vector<std::string> bodies;
  auto delivers = std::make_shared<std::vector<Deliver>>();
  bodies.reserve(n);
  delivers->reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    bodies.push_back(std::move(line.waiting.front().body));
    delivers->push_back(std::move(line.waiting.front().deliver));
    line.waiting.pop_front();
  }
  ++line.in_flight;
  submit_(key.first, key.second, std::move(bodies), [this, key, delivers](Result<std::vector<std::uint64_t>> r) {
    {
      std::lock_guard lock(mutex_);
      auto it = lines_.find(key);
      --it->second.in_flight;
      if (!it->second.waiting.empty()) {
        send_next_locked(key, it->second);
      } else if (it->second.in_flight == 0) {
        lines_.erase(it);
      }
    }
    for (std::size_t i = 0; i < delivers->size(); ++i) {
      if (!r.ok()) {
        (*delivers)[i](r.status());
      } else if (i < r.value().size()) {
        (*delivers)[i](r.value()[i]);
      } else {
        (*delivers)[i](Status(Errc::internal, "the park answered fewer offsets than messages sent"));
      }
    }
  });
}

}  // namespace fourinone::mq
