// Mq::connect and MqOptions::from_config: the public entry points of the message queue.
#include "mq/client/mq_client.hpp"
#include "park/queue/queue_config.hpp"

namespace fourinone {

Result<std::unique_ptr<Mq>> Mq::connect(const MqOptions& options) {
  if (options.park.servers.empty()) return Status(Errc::bad_request, "no park servers given");
  auto client = std::make_unique<mq::MqClient>(options);
  if (Status s = client->connect_first(); !s.ok()) return s;
  return std::unique_ptr<Mq>(std::move(client));
}

Result<std::unique_ptr<Mq>> Mq::connect(const Config& config) {
  auto options = MqOptions::from_config(config);
  if (!options.ok()) return options.status();
  return connect(options.value());
}

Result<MqOptions> MqOptions::from_config(const Config& config) {
  auto settings = park::load_mq_settings(config);
  if (!settings.ok()) return settings.status();
  MqOptions o;
  o.park = ParkOptions::from_config(config);
  o.max_message = settings->max_message;
  return o;
}

}  // namespace fourinone
