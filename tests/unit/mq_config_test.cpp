// The MQ row of config.xml: defaults, per-channel rules, their precedence, and errors that
// name file, line and element.
#include <doctest/doctest.h>

#include "park/queue/queue_config.hpp"

using fourinone::ChannelOptions;
using fourinone::Errc;
using fourinone::park::load_mq_settings;
using fourinone::park::MqSettings;
using fourinone::park::rules_for;

namespace {

fourinone::Result<MqSettings> settings_of(const std::string& row) {
  std::string xml = "<PROPSTABLE>\n<PROPSROW DESC=\"PARK\"><SERVERS>h:1</SERVERS><MAXVALUE>4M</MAXVALUE></PROPSROW>\n" +
                    row + "</PROPSTABLE>\n";
  auto config = fourinone::parse_config(xml, "mq.xml");
  REQUIRE_MESSAGE(config.ok(), config.status().to_string());
  return load_mq_settings(config.value());
}

}  // namespace

TEST_CASE("mq settings: defaults without a row, and the repository's config.xml") {
  auto s = settings_of("");
  REQUIRE(s.ok());
  CHECK(s->max_message == 1u << 20);
  CHECK(s->defaults.lease_ms == 30'000);
  CHECK(s->defaults.max_deliveries == 5);
  CHECK(s->defaults.max_count == 0);
  CHECK(s->defaults.max_age_ms == 0);
  auto repo = fourinone::load_config(std::string(FOURINONE_SOURCE_DIR) + "/config.xml");
  REQUIRE(repo.ok());
  auto r = load_mq_settings(*repo);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  CHECK(r->defaults.lease_ms == 30'000);
}

TEST_CASE("mq settings: CHANNELS rules win over the row; options given at creation win over both") {
  auto s = settings_of(
      "<PROPSROW DESC=\"MQ\"><LEASE>5000</LEASE><MAXCOUNT>10</MAXCOUNT>"
      "<CHANNELS>orders=maxcount:100,lease:60000; events = maxage:3600000</CHANNELS></PROPSROW>\n");
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  auto orders = rules_for(*s, "orders", {});
  CHECK(orders.max_count == 100);
  CHECK(orders.lease_ms == 60'000);
  CHECK(orders.max_deliveries == 5);
  auto events = rules_for(*s, "events", {});
  CHECK(events.max_age_ms == 3'600'000);
  CHECK(events.max_count == 10);
  CHECK(events.lease_ms == 5000);
  ChannelOptions asked;
  asked.lease = std::chrono::milliseconds(700);
  auto other = rules_for(*s, "orders", asked);
  CHECK(other.lease_ms == 700);
  CHECK(other.max_count == 100);
}

TEST_CASE("mq settings: a bad element is a config_error naming line and element") {
  struct Case {
    const char* row;
    const char* element;
  };
  const Case cases[] = {
      {"<LEASE>10</LEASE>", "LEASE"},                      // below 100 ms
      {"<LEASE>soon</LEASE>", "LEASE"},
      {"<MAXMESSAGE>8M</MAXMESSAGE>", "MAXMESSAGE"},       // above the park's MAXVALUE (4M)
      {"<MAXDELIVERIES>-1</MAXDELIVERIES>", "MAXDELIVERIES"},
      {"<CHANNELS>orders</CHANNELS>", "CHANNELS"},
      {"<CHANNELS>orders=size:1</CHANNELS>", "CHANNELS"},
      {"<CHANNELS>orders=maxcount:x</CHANNELS>", "CHANNELS"},
      {"<CHANNELS>a=lease:5;a=lease:500</CHANNELS>", "CHANNELS"},
      {"<CHANNELS>a=maxcount:1;a=maxcount:2</CHANNELS>", "CHANNELS"},
  };
  for (const Case& c : cases) {
    std::string row = c.row;
    CAPTURE(row);
    auto s = settings_of(std::string("<PROPSROW DESC=\"MQ\">\n") + c.row + "\n</PROPSROW>\n");
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == Errc::config_error);
    INFO(s.status().message());
    // The element's line (parsed from text, the file shows as "(config text)").
    CHECK(s.status().message().find(":4: " + std::string(c.element) + " in row MQ") != std::string::npos);
  }
}
