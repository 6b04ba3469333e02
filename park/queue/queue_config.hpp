// The MQ row of config.xml: limits and the default rules of channels (mq/README.md).
//
//   <PROPSROW DESC="MQ">
//     <MAXMESSAGE>1M</MAXMESSAGE>        bytes in one message body (at most the park's MAXVALUE)
//     <LEASE>30000</LEASE>               ms a receive leases its messages for
//     <MAXDELIVERIES>5</MAXDELIVERIES>   deliveries before dead-lettering (0: never)
//     <MAXCOUNT>0</MAXCOUNT>             messages a channel holds (0: no bound)
//     <MAXAGE>0</MAXAGE>                 ms a message may wait (0: no bound)
//     <CHANNELS>orders=maxcount:100000,lease:60000;events=maxage:3600000</CHANNELS>
//   </PROPSROW>
//
// CHANNELS gives one channel its own rules (keys maxcount, maxage, maxdeliveries, lease);
// the rest come from the row. A channel takes its rules when it is made, from the leader's
// config.xml, and keeps them: change the row, then remove and remake the channel.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "fourinone/config.hpp"
#include "fourinone/error.hpp"
#include "fourinone/mq.hpp"
#include "park/queue/queue_types.hpp"

namespace fourinone::park {

struct MqSettings {
  std::size_t max_message = kDefaultMaxMessage;
  MqRules defaults;
  std::map<std::string, ChannelOptions, std::less<>> channels;  // CHANNELS: zero = not given
};

// Errors: config_error "FILE:LINE: ELEMENT in row MQ: why, got 'text'".
Result<MqSettings> load_mq_settings(const Config& config);

// The rules of a channel made now: each non-zero field of `asked`, else of its CHANNELS
// entry, else the row's default.
MqRules rules_for(const MqSettings& settings, std::string_view channel, const ChannelOptions& asked);

}  // namespace fourinone::park
