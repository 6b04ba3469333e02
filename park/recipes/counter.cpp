#include "fourinone/counter.hpp"

#include <charconv>

namespace fourinone {
namespace {

Result<std::int64_t> parse(const Node& node) {
  std::int64_t v = 0;
  const char* end = node.value.data() + node.value.size();
  auto [p, ec] = std::from_chars(node.value.data(), end, v);
  if (ec != std::errc() || p != end || node.value.empty()) {
    return Status(Errc::bad_request, "counter " + node.domain + "/" + node.name + " holds no decimal integer");
  }
  return v;
}

}  // namespace

Result<std::int64_t> DistributedCounter::get() {
  auto node = park_.get(domain_, node_);
  if (!node.ok()) {
    if (node.status().code() == Errc::not_found) return std::int64_t{0};
    return node.status();
  }
  return parse(*node);
}

Result<std::int64_t> DistributedCounter::add(std::int64_t delta) {
  for (;;) {
    auto node = park_.get(domain_, node_);
    if (!node.ok() && node.status().code() != Errc::not_found) return node.status();
    if (!node.ok()) {
      // First add: create it; if another client created it meanwhile, go round again.
      auto created = park_.create(domain_, node_, std::to_string(delta));
      if (created.ok()) return delta;
      if (created.status().code() != Errc::exists) return created.status();
      continue;
    }
    auto current = parse(*node);
    if (!current.ok()) return current.status();
    std::int64_t next = *current + delta;
    // Writing the same bytes is "no change" for the park and would not detect a concurrent
    // write, so a zero delta is just a read.
    if (delta == 0) return next;
    auto updated = park_.update(domain_, node_, std::to_string(next), static_cast<std::int64_t>(node->version));
    if (updated.ok()) return next;
    // bad_version: someone else added first; not_found: someone removed it. Both: retry.
    if (updated.status().code() != Errc::bad_version && updated.status().code() != Errc::not_found) {
      return updated.status();
    }
  }
}

}  // namespace fourinone
