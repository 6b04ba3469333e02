// The cache's rows of config.xml: CACHE settings, CACHEGROUP groups, and errors that name
// file, line and element.
#include <doctest/doctest.h>

#include "cache/cache_config.hpp"

using fourinone::Errc;
using fourinone::ServerAddress;
using fourinone::cache::CacheSettings;
using fourinone::cache::group_of_server;
using fourinone::cache::load_cache_settings;

namespace {

fourinone::Result<CacheSettings> settings_of(const std::string& rows) {
  std::string xml = "<PROPSTABLE>\n<PROPSROW DESC=\"PARK\"><SERVERS>h:1</SERVERS></PROPSROW>\n" + rows + "</PROPSTABLE>\n";
  auto config = fourinone::parse_config(xml, "cache.xml");
  REQUIRE_MESSAGE(config.ok(), config.status().to_string());
  return load_cache_settings(config.value());
}

}  // namespace

TEST_CASE("the repository's config.xml has two cache groups of primary and backup") {
  auto config = fourinone::load_config(std::string(FOURINONE_SOURCE_DIR) + "/config.xml");
  REQUIRE(config.ok());
  auto s = load_cache_settings(config.value());
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  REQUIRE(s->groups.size() == 2);
  CHECK(s->groups[0].name == "a");
  CHECK(s->groups[0].servers == std::vector<ServerAddress>{{"localhost", 2000}, {"localhost", 2001}});
  CHECK(s->groups[1].name == "b");
  CHECK(s->max_memory == 64u << 20);
  CHECK(s->service == "fourinone.cache");
  CHECK(group_of_server(s.value(), {"localhost", 2003}, "config.xml").value() == "b");
}

TEST_CASE("cache settings default like memcached when the CACHE row is absent") {
  auto s = settings_of("");
  REQUIRE(s.ok());
  CHECK(s->max_key == 250);
  CHECK(s->max_value == 1u << 20);
  CHECK(s->max_memory == 256u << 20);
  CHECK(s->vnodes == 160);
  CHECK(s->try_keys == 100);
  CHECK(s->groups.empty());
}

TEST_CASE("CACHEGROUP rows accept the original's shape: unnamed groups, dates, several rows") {
  auto s = settings_of(
      "<PROPSROW DESC=\"CACHEGROUP\"><STARTTIME>2010-01-01</STARTTIME>"
      "<GROUP>localhost:2000,localhost:2001@2010-01-01;localhost:2002@2011-05-01</GROUP></PROPSROW>\n"
      "<PROPSROW DESC=\"CACHEGROUP\"><GROUP>hot=localhost:2004</GROUP></PROPSROW>\n"
      "<PROPSROW DESC=\"CACHEFACADE\"><TRYKEYSNUM>7</TRYKEYSNUM></PROPSROW>\n");
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  REQUIRE(s->groups.size() == 3);
  CHECK(s->groups[0].name == "g1");
  CHECK(s->groups[0].servers.size() == 2);
  CHECK(s->groups[1].name == "g2");
  CHECK(s->groups[1].servers == std::vector<ServerAddress>{{"localhost", 2002}});
  CHECK(s->groups[2].name == "hot");
  CHECK(s->try_keys == 7);
  CHECK(group_of_server(s.value(), {"localhost", 9}, "cache.xml").status().code() == Errc::config_error);
}

TEST_CASE("a bad cache row is refused with file, line and element") {
  struct Case {
    std::string rows;
    std::string expected;
  };
  const Case cases[] = {
      {"<PROPSROW DESC=\"CACHE\">\n<MAXMEMORY>lots</MAXMEMORY></PROPSROW>\n", ":4: MAXMEMORY in row CACHE"},
      {"<PROPSROW DESC=\"CACHE\">\n<MAXKEY>0</MAXKEY></PROPSROW>\n", ":4: MAXKEY in row CACHE"},
      {"<PROPSROW DESC=\"CACHE\">\n<MAXMEMORY>1M</MAXMEMORY><MAXVALUE>2M</MAXVALUE></PROPSROW>\n",
       "MAXVALUE in row CACHE: must leave room"},
      {"<PROPSROW DESC=\"CACHE\">\n<SERVICE>bad name</SERVICE></PROPSROW>\n", "SERVICE in row CACHE"},
      {"<PROPSROW DESC=\"CACHEGROUP\">\n<GROUP>a=localhost</GROUP></PROPSROW>\n", ":4: GROUP in row CACHEGROUP"},
      {"<PROPSROW DESC=\"CACHEGROUP\">\n<GROUP>a=h:1;a=h:2</GROUP></PROPSROW>\n", "group 'a' is named twice"},
      {"<PROPSROW DESC=\"CACHEGROUP\">\n<GROUP>a=h:1;b=h:1</GROUP></PROPSROW>\n", "server h:1 is listed twice"},
      {"<PROPSROW DESC=\"CACHEGROUP\">\n<GROUP>no/slash=h:1</GROUP></PROPSROW>\n", "group name 'no/slash'"},
      {"<PROPSROW DESC=\"CACHEGROUP\">\n<STARTTIME>x</STARTTIME></PROPSROW>\n", "a CACHEGROUP row needs GROUP"},
      {"<PROPSROW DESC=\"CACHEGROUP\"><GROUP>a=h:1</GROUP></PROPSROW>\n<PROPSROW DESC=\"CACHEGROUP\">\n<GROUP>b=h:x</GROUP></PROPSROW>\n",
       "GROUP in row CACHEGROUP#2"},
      {"<PROPSROW DESC=\"CACHE\">\n<HTTP>h:1</HTTP></PROPSROW>\n<PROPSROW DESC=\"CACHEGROUP\"><GROUP>a=h:1</GROUP></PROPSROW>\n",
       ":4: HTTP in row CACHE: 'h:1' is not SERVER=HOST:PORT"},
      {"<PROPSROW DESC=\"CACHE\">\n<HTTP>h:7=h:9</HTTP></PROPSROW>\n<PROPSROW DESC=\"CACHEGROUP\"><GROUP>a=h:1</GROUP></PROPSROW>\n",
       "names h:7, which no CACHEGROUP row lists"},
      {"<PROPSROW DESC=\"CACHE\">\n<HTTP>h:1=h</HTTP></PROPSROW>\n<PROPSROW DESC=\"CACHEGROUP\"><GROUP>a=h:1</GROUP></PROPSROW>\n",
       "HTTP in row CACHE: bad server address 'h'"},
  };
  for (const auto& c : cases) {
    auto s = settings_of(c.rows);
    INFO(c.rows);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == Errc::config_error);
    CHECK_MESSAGE(s.status().message().find(c.expected) != std::string::npos, s.status().message());
  }
}

TEST_CASE("CACHE/HTTP names the HTTP port of each cache server that has one") {
  auto s = settings_of("<PROPSROW DESC=\"CACHE\"><HTTP>h:1=h:91, h:2=h:92</HTTP></PROPSROW>\n"
                       "<PROPSROW DESC=\"CACHEGROUP\"><GROUP>a=h:1,h:2;b=h:3</GROUP></PROPSROW>\n");
  REQUIRE(s.ok());
  CHECK(s->http.size() == 2);
  CHECK(s->http.at(ServerAddress{"h", 2}) == ServerAddress{"h", 92});
  CHECK(s->http.count(ServerAddress{"h", 3}) == 0);
}
