// The FTTP row of config.xml: servers, roots (name -> folder, read-only) and errors that name
// file, line and element.
#include <doctest/doctest.h>

#include "fileops/fttp_config.hpp"

using fourinone::Errc;
using fourinone::ServerAddress;
using fourinone::fileops::FttpSettings;
using fourinone::fileops::load_fttp_settings;

namespace {

fourinone::Result<FttpSettings> settings_of(const std::string& row) {
  std::string xml = "<PROPSTABLE>\n<PROPSROW DESC=\"PARK\"><SERVERS>h:1</SERVERS></PROPSROW>\n" + row + "</PROPSTABLE>\n";
  auto config = fourinone::parse_config(xml, "fttp.xml", "/cfg");
  REQUIRE_MESSAGE(config.ok(), config.status().to_string());
  return load_fttp_settings(config.value());
}

}  // namespace

TEST_CASE("the FTTP row gives servers and roots, relative folders under the config's folder") {
  auto s = settings_of(
      "<PROPSROW DESC=\"FTTP\">\n<SERVERS>localhost:2121, h2:2122</SERVERS>\n"
      "<ROOTS>shared=data/fttp, logs=/var/log:ro,tmp=/tmp/x/:rw</ROOTS>\n<CHUNK>1M</CHUNK><THREADS>2</THREADS>"
      "<SERVICE>files</SERVICE></PROPSROW>\n");
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  CHECK(s->servers == std::vector<ServerAddress>{{"localhost", 2121}, {"h2", 2122}});
  REQUIRE(s->roots.size() == 3);
  CHECK(s->roots[0].name == "shared");
  CHECK(s->roots[0].folder == "/cfg/data/fttp");
  CHECK_FALSE(s->roots[0].read_only);
  CHECK(s->roots[1].folder == "/var/log");
  CHECK(s->roots[1].read_only);
  CHECK(s->roots[2].folder == "/tmp/x");
  CHECK_FALSE(s->roots[2].read_only);
  CHECK(s->chunk == 1u << 20);
  CHECK(s->threads == 2);
  CHECK(s->service == "files");
}

TEST_CASE("no FTTP row: no servers, no roots, default settings") {
  auto s = settings_of("");
  REQUIRE(s.ok());
  CHECK(s->servers.empty());
  CHECK(s->roots.empty());
  CHECK(s->service == "fttp");
  CHECK(s->chunk == 4u << 20);
}

TEST_CASE("bad FTTP rows are refused naming file, line and element") {
  struct Row {
    std::string xml;
    std::string element;
    std::string says;
  };
  std::vector<Row> table{
      {"<SERVERS>localhost</SERVERS><ROOTS>a=/x</ROOTS>", "SERVERS", "localhost"},
      {"<SERVERS>h:1,h:1</SERVERS><ROOTS>a=/x</ROOTS>", "SERVERS", "twice"},
      {"<SERVERS>h:1</SERVERS>", "SERVERS", "needs ROOTS"},
      {"<SERVERS>h:1</SERVERS><ROOTS>/x</ROOTS>", "ROOTS", "NAME=FOLDER"},
      {"<SERVERS>h:1</SERVERS><ROOTS>a/b=/x</ROOTS>", "ROOTS", "root name"},
      {"<SERVERS>h:1</SERVERS><ROOTS>..=/x</ROOTS>", "ROOTS", "root name"},
      {"<SERVERS>h:1</SERVERS><ROOTS>a=/x,a=/y</ROOTS>", "ROOTS", "twice"},
      {"<SERVERS>h:1</SERVERS><ROOTS>a=</ROOTS>", "ROOTS", "no folder"},
      {"<SERVERS>h:1</SERVERS><ROOTS>all=/</ROOTS>", "ROOTS", "whole file system"},
      {"<SERVERS>h:1</SERVERS><ROOTS>all=/tmp/../</ROOTS>", "ROOTS", "whole file system"},
      {"<ROOTS>a=/x</ROOTS><CHUNK>1K</CHUNK>", "CHUNK", "size"},
      {"<ROOTS>a=/x</ROOTS><THREADS>0</THREADS>", "THREADS", "whole number"},
      {"<ROOTS>a=/x</ROOTS><SERVICE>a b</SERVICE>", "SERVICE", "letters"},
      {"<SERVERS>h:1,h:2</SERVERS><ROOTS>a=/x</ROOTS><HTTP>h:9</HTTP>", "HTTP", "lists 1 addresses for 2 SERVERS"},
      {"<SERVERS>h:1</SERVERS><ROOTS>a=/x</ROOTS><HTTP>nope</HTTP>", "HTTP", "nope"},
  };
  for (const auto& row : table) {
    INFO(row.xml);
    auto s = settings_of("<PROPSROW DESC=\"FTTP\">\n\n\n" + row.xml + "\n</PROPSROW>\n");
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == Errc::config_error);
    CHECK(s.status().message().find(":6: ") != std::string::npos);  // the line of the element
    CHECK(s.status().message().find(row.element + " in row FTTP") != std::string::npos);
    CHECK(s.status().message().find(row.says) != std::string::npos);
  }
}

TEST_CASE("FTTP/HTTP gives each server of SERVERS its HTTP port, in order") {
  auto s = settings_of("<PROPSROW DESC=\"FTTP\"><SERVERS>h:1,h:2</SERVERS><ROOTS>a=/x</ROOTS><HTTP>h:91,h:92</HTTP></PROPSROW>\n");
  REQUIRE(s.ok());
  REQUIRE(s->http.size() == 2);
  CHECK(s->http[1] == ServerAddress{"h", 92});
}
