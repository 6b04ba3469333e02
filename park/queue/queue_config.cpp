#include "park/queue/queue_config.hpp"

#include <charconv>
#include <optional>

#include "core/config_row.hpp"

namespace fourinone::park {
namespace {

constexpr std::uint64_t kMaxLeaseMs = 24ull * 3600 * 1000;
constexpr std::uint64_t kMaxAgeMs = 10ull * 365 * 24 * 3600 * 1000;  // ten years
constexpr std::uint64_t kMaxDeliveries = 1'000'000;
constexpr std::uint64_t kMinLeaseMs = 100;  // shorter leases expire under a busy disk

std::optional<std::uint64_t> whole(std::string_view text) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

// "maxcount:100,lease:60000" -> the options it names.
Result<ChannelOptions> parse_channel_rules(const core::ConfigRow& row, const std::string& name,
                                           const std::string& text) {
  ChannelOptions o;
  for (const std::string& item : split_config_list(text, ',')) {
    auto kv = split_config_list(item, ':');
    auto value = kv.size() == 2 ? whole(kv[1]) : std::nullopt;
    if (!value) {
      return row.bad("CHANNELS", "channel '" + name + "': expected key:number, e.g. maxcount:1000, got '" + item + "'");
    }
    if (kv[0] == "maxcount") {
      o.max_count = *value;
    } else if (kv[0] == "maxage" && *value <= kMaxAgeMs) {
      o.max_age = std::chrono::milliseconds(*value);
    } else if (kv[0] == "maxdeliveries" && *value <= kMaxDeliveries) {
      o.max_deliveries = static_cast<std::uint32_t>(*value);
    } else if (kv[0] == "lease" && *value >= kMinLeaseMs && *value <= kMaxLeaseMs) {
      o.lease = std::chrono::milliseconds(*value);
    } else {
      return row.bad("CHANNELS", "channel '" + name + "': '" + item +
                                     "' is not one of maxcount:N, maxage:MS, maxdeliveries:N, lease:MS (" +
                                     std::to_string(kMinLeaseMs) + " to " + std::to_string(kMaxLeaseMs) + ")");
    }
  }
  return o;
}

}  // namespace

Result<MqSettings> load_mq_settings(const Config& config) {
  MqSettings s;
  core::ConfigRow row(config, "MQ");
  auto max_message = row.number("MAXMESSAGE", s.max_message, 1, config.park.max_value, true);
  if (!max_message.ok()) return max_message.status();
  s.max_message = static_cast<std::size_t>(*max_message);
  auto lease = row.number("LEASE", static_cast<std::uint64_t>(s.defaults.lease_ms), kMinLeaseMs, kMaxLeaseMs);
  if (!lease.ok()) return lease.status();
  s.defaults.lease_ms = static_cast<std::int64_t>(*lease);
  auto deliveries = row.number("MAXDELIVERIES", s.defaults.max_deliveries, 0, kMaxDeliveries);
  if (!deliveries.ok()) return deliveries.status();
  s.defaults.max_deliveries = static_cast<std::uint32_t>(*deliveries);
  auto count = row.number("MAXCOUNT", 0, 0, UINT64_MAX);
  if (!count.ok()) return count.status();
  s.defaults.max_count = *count;
  auto age = row.number("MAXAGE", 0, 0, kMaxAgeMs);
  if (!age.ok()) return age.status();
  s.defaults.max_age_ms = static_cast<std::int64_t>(*age);
  if (const std::string* channels = row.text("CHANNELS")) {
    for (const std::string& entry : split_config_list(*channels, ';')) {
      if (entry.empty()) continue;
      auto named = split_config_list(entry, '=');
      if (named.size() != 2 || named[0].empty()) {
        return row.bad("CHANNELS", "expected NAME=key:number,... separated by ';', got '" + entry + "'");
      }
      auto rules = parse_channel_rules(row, named[0], named[1]);
      if (!rules.ok()) return rules.status();
      if (!s.channels.emplace(named[0], *rules).second) {
        return row.bad("CHANNELS", "channel '" + named[0] + "' is listed twice");
      }
    }
  }
  return s;
}

MqRules rules_for(const MqSettings& settings, std::string_view channel, const ChannelOptions& asked) {
  ChannelOptions named;
  if (auto it = settings.channels.find(channel); it != settings.channels.end()) named = it->second;
  auto pick = [](auto asked_value, auto named_value, auto fallback) {
    using T = decltype(fallback);
    if (asked_value != 0) return static_cast<T>(asked_value);
    if (named_value != 0) return static_cast<T>(named_value);
    return fallback;
  };
  MqRules r;
  r.max_count = pick(asked.max_count, named.max_count, settings.defaults.max_count);
  r.max_age_ms = pick(asked.max_age.count(), named.max_age.count(), settings.defaults.max_age_ms);
  r.max_deliveries = pick(asked.max_deliveries, named.max_deliveries, settings.defaults.max_deliveries);
  r.lease_ms = pick(asked.lease.count(), named.lease.count(), settings.defaults.lease_ms);
  return r;
}

}  // namespace fourinone::park
