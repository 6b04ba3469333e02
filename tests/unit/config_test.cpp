// config.xml: the repository's default file, every checked value, and the file:line:element
// of everything refused.
#include "fourinone/config.hpp"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/auth.hpp"
#include "core/logging.hpp"

#ifndef FOURINONE_SOURCE_DIR
#define FOURINONE_SOURCE_DIR "."
#endif

using namespace fourinone;

namespace {

// A PARK row whose first element is on line 3, and whose `extra` lines follow from line 4.
std::string park_doc(const std::string& extra, const std::string& more_rows = "") {
  return "<PROPSTABLE>\n"
         "<PROPSROW DESC=\"PARK\">\n"
         "<SERVERS>localhost:1888</SERVERS>\n" +
         extra + "\n</PROPSROW>\n" + more_rows + "</PROPSTABLE>\n";
}

Config parse_ok(const std::string& text, const std::string& dir = "/etc/f") {
  auto r = parse_config(text, "c.xml", dir);
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  return *r;
}

// The message names the file and line, then `head` (say "HEARTBEAT in row PARK"), then `what`.
void check_refused(const std::string& text, int line, const std::string& head, const std::string& what) {
  auto r = parse_config(text, "c.xml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Errc::config_error);
  const std::string& message = r.status().message();
  INFO(message);
  CHECK(message.rfind("c.xml:" + std::to_string(line) + ": " + head, 0) == 0);
  CHECK(message.find(what) != std::string::npos);
}

std::filesystem::path temp_dir(const std::string& name) {
  auto dir =
      std::filesystem::temp_directory_path() / ("fourinone_config_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("the repository's config.xml loads without warnings and with the documented defaults") {
  auto r = load_config(std::string(FOURINONE_SOURCE_DIR) + "/config.xml");
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  const Config& c = *r;
  for (const auto& w : c.warnings) INFO(w.file << ":" << w.line << ": " << w.message);
  CHECK(c.warnings.empty());
  REQUIRE(c.park.servers.size() == 3);
  CHECK(c.park.servers[0] == ServerAddress{"localhost", 1888});
  CHECK(c.park.servers[2] == ServerAddress{"localhost", 1890});
  CHECK(c.park.data_dir == "data");
  CHECK(c.park.session_timeout == std::chrono::milliseconds(6000));
  CHECK(c.park.heartbeat == std::chrono::milliseconds(1000));
  CHECK(c.park.max_delay == std::chrono::milliseconds(3000));
  CHECK(c.park.expiration_hours == 24);
  CHECK(c.park.clear_period_hours == 0);
  CHECK(c.park.safe_memory_per == doctest::Approx(0.95));
  CHECK(c.park.max_memory == (1ull << 30));
  CHECK(c.park.max_value == (16ull << 20));
  CHECK(c.park.max_name == 255);
  CHECK(c.park.users.empty());
  CHECK_FALSE(c.park.always_try_leader);
  CHECK(c.park.lease_reads);  // on by default
  CHECK(c.log.level == "info");
  CHECK(c.log.file.empty());
  CHECK(c.file == std::string(FOURINONE_SOURCE_DIR) + "/config.xml");
  CHECK(std::filesystem::path(c.dir).is_absolute());
  CHECK(std::filesystem::equivalent(c.dir, FOURINONE_SOURCE_DIR));
  CHECK(c.resolved_data_dir() == c.dir + "/data");
  CHECK(c.rows.at("PARK").at("SERVERS") == "localhost:1888,localhost:1889,localhost:1890");
  CHECK(c.rows.at("LOG").at("LEVELNAME") == "info");
}

TEST_CASE("a file with only SERVERS gets every default") {
  Config c = parse_ok("<PROPSTABLE><PROPSROW DESC=\"PARK\"><SERVERS>h:1</SERVERS></PROPSROW></PROPSTABLE>");
  ParkConfig defaults;
  CHECK(c.park.data_dir == defaults.data_dir);
  CHECK(c.park.session_timeout == defaults.session_timeout);
  CHECK(c.park.heartbeat == defaults.heartbeat);
  CHECK(c.park.max_delay == defaults.max_delay);
  CHECK(c.park.max_memory == defaults.max_memory);
  CHECK(c.park.max_value == defaults.max_value);
  CHECK(c.park.max_name == defaults.max_name);
  CHECK(c.park.wal_segment == 64ull << 20);
  CHECK(c.park.admins.empty());
  CHECK(c.log.level == "info");
  CHECK(c.file.empty());
  CHECK(c.dir == "/etc/f");
  CHECK(c.warnings.empty());
}

TEST_CASE("SERVERS takes several addresses with spaces around them") {
  Config c = parse_ok(park_doc("").replace(park_doc("").find("localhost:1888"), 14,
                                           " a.example.com:1888 ,\n 10.0.0.2:1889,b_c-d:65535 "));
  REQUIRE(c.park.servers.size() == 3);
  CHECK(c.park.servers[0] == ServerAddress{"a.example.com", 1888});
  CHECK(c.park.servers[1] == ServerAddress{"10.0.0.2", 1889});
  CHECK(c.park.servers[2] == ServerAddress{"b_c-d", 65535});
  CHECK(c.park.servers[2].to_string() == "b_c-d:65535");
}

TEST_CASE("parse_server_address accepts HOST:PORT and refuses anything else") {
  auto a = parse_server_address("localhost:1888");
  REQUIRE(a.ok());
  CHECK(a->host == "localhost");
  CHECK(a->port == 1888);
  for (const char* bad : {"", "localhost", ":1888", "localhost:", "localhost:0", "localhost:65536", "h:-1", "h:+1",
                          "h: 1", "h:1x", "::1:1888", "h st:1", "h:99999999999999999999"}) {
    auto r = parse_server_address(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Errc::bad_request);
    CHECK(r.status().message() == "bad server address '" + std::string(bad) + "': expected HOST:PORT");
  }
}

TEST_CASE("every PARK element is read with its unit") {
  Config c = parse_ok(park_doc(R"(<SERVICE>ParkService</SERVICE>
<DATADIR>/var/lib/fourinone</DATADIR>
<SESSIONTIMEOUT>10000</SESSIONTIMEOUT>
<HEARTBEAT>2000</HEARTBEAT>
<MAXDELAY>0</MAXDELAY>
<EXPIRATION>0.5</EXPIRATION>
<CLEARPERIOD>-1</CLEARPERIOD>
<SAFEMEMORYPER>1</SAFEMEMORYPER>
<MAXMEMORY>512M</MAXMEMORY>
<MAXVALUE>1k</MAXVALUE>
<MAXNAME>4096</MAXNAME>
<WALSEGMENT>1m</WALSEGMENT>
<USERS></USERS>
<ALWAYSTRYLEADER>TRUE</ALWAYSTRYLEADER>
<LEASEREADS>False</LEASEREADS>
<STARTWEBAPP>false</STARTWEBAPP>)"));
  CHECK(c.warnings.empty());
  CHECK(c.park.data_dir == "/var/lib/fourinone");
  CHECK(c.resolved_data_dir() == "/var/lib/fourinone");
  CHECK(c.park.session_timeout == std::chrono::milliseconds(10000));
  CHECK(c.park.heartbeat == std::chrono::milliseconds(2000));
  CHECK(c.park.max_delay == std::chrono::milliseconds(0));
  CHECK(c.park.expiration_hours == 0.5);
  CHECK(c.park.clear_period_hours == -1);
  CHECK(c.park.safe_memory_per == 1);
  CHECK(c.park.max_memory == 512ull << 20);
  CHECK(c.park.max_value == 1024);
  CHECK(c.park.max_name == 4096);
  CHECK(c.park.wal_segment == (1u << 20));
  CHECK(c.park.users.empty());
  CHECK(c.park.always_try_leader);
  CHECK_FALSE(c.park.lease_reads);
  CHECK(c.rows.at("PARK").at("SERVICE") == "ParkService");
}

TEST_CASE("byte counts take K, M and G suffixes in either case") {
  CHECK(parse_ok(park_doc("<MAXMEMORY>1073741824</MAXMEMORY>")).park.max_memory == (1ull << 30));
  CHECK(parse_ok(park_doc("<MAXMEMORY>2g</MAXMEMORY>")).park.max_memory == (2ull << 30));
  CHECK(parse_ok(park_doc("<MAXMEMORY>64K</MAXMEMORY>")).park.max_memory == (64ull << 10));
  CHECK(parse_ok(park_doc("<MAXVALUE>1G</MAXVALUE>")).park.max_value == (1ull << 30));
  CHECK(parse_ok(park_doc("<MAXVALUE>1</MAXVALUE>")).park.max_value == 1);
}

TEST_CASE("a relative DATADIR resolves against the config file's folder") {
  Config c = parse_ok(park_doc("<DATADIR>state/park</DATADIR>"), "/srv/app");
  CHECK(c.park.data_dir == "state/park");
  CHECK(c.resolved_data_dir() == "/srv/app/state/park");
}

TEST_CASE("each bad PARK value is refused with file, line, element and the text") {
  struct Case {
    const char* element;
    const char* value;
    const char* reason;
  };
  const Case cases[] = {
      {"SESSIONTIMEOUT", "abc", "milliseconds from 200 to 600000"},
      {"SESSIONTIMEOUT", "199", "milliseconds from 200 to 600000"},
      {"SESSIONTIMEOUT", "600001", "milliseconds from 200 to 600000"},
      {"SESSIONTIMEOUT", "-6000", "milliseconds"},
      {"SESSIONTIMEOUT", "6000ms", "milliseconds"},
      {"HEARTBEAT", "0", "milliseconds from 1"},
      {"HEARTBEAT", "1.5", "milliseconds"},
      {"MAXDELAY", "-1", "milliseconds from 0 to 3600000"},
      {"MAXDELAY", "3600001", "milliseconds from 0 to 3600000"},
      {"EXPIRATION", "0", "hours above 0"},
      {"EXPIRATION", "nan", "hours above 0"},
      {"EXPIRATION", "ten", "hours above 0"},
      {"CLEARPERIOD", "inf", "number of hours"},
      {"CLEARPERIOD", "", "number of hours"},
      {"SAFEMEMORYPER", "0", "above 0 and at most 1"},
      {"SAFEMEMORYPER", "1.01", "above 0 and at most 1"},
      {"SAFEMEMORYPER", "95%", "above 0 and at most 1"},
      {"MAXMEMORY", "0", "byte count of at least 1"},
      {"MAXMEMORY", "1T", "byte count"},
      {"MAXMEMORY", "512MB", "byte count"},
      {"MAXMEMORY", "99999999999999999999", "byte count"},
      {"MAXMEMORY", "17179869184G", "byte count"},
      {"MAXVALUE", "0", "from 1 to 1G"},
      {"MAXVALUE", "1025M", "from 1 to 1G"},
      {"MAXNAME", "0", "from 1 to 4096"},
      {"MAXNAME", "4097", "from 1 to 4096"},
      {"WALSEGMENT", "63K", "from 64K to 1G"},
      {"WALSEGMENT", "2G", "from 64K to 1G"},
      {"ALWAYSTRYLEADER", "yes", "true or false"},
      {"LEASEREADS", "on", "true or false"},
      {"STARTWEBAPP", "1", "true or false"},
      {"DATADIR", "", "must name a folder"},
  };
  for (const auto& c : cases) {
    std::string name = c.element;
    std::string value = c.value;
    CAPTURE(name);
    CAPTURE(value);
    std::string text = park_doc("<SERVICE>ParkService</SERVICE>\n<" + name + ">" + value + "</" + name + ">");
    check_refused(text, 5, name + " in row PARK: ", c.reason);
    check_refused(text, 5, name + " in row PARK: ", ", got '" + value + "'");
  }
}

TEST_CASE("bad SERVERS lists are refused with the offending entry") {
  auto servers = [](const std::string& text) {
    return "<PROPSTABLE>\n<PROPSROW DESC=\"PARK\">\n\n<SERVERS>" + text + "</SERVERS>\n</PROPSROW>\n</PROPSTABLE>";
  };
  check_refused(servers(""), 4, "SERVERS in row PARK: ", "at least one HOST:PORT, got ''");
  check_refused(servers("localhost:0"), 4, "SERVERS in row PARK: ", "bad server address 'localhost:0'");
  check_refused(servers("a:1,b:70000"), 4, "SERVERS in row PARK: ", "bad server address 'b:70000'");
  check_refused(servers("a:1,:2"), 4, "SERVERS in row PARK: ", "bad server address ':2'");
  check_refused(servers("a:1,,b:2"), 4,
                "SERVERS in row PARK: ", "has an empty entry; expected HOST:PORT,HOST:PORT,..., got 'a:1,,b:2'");
  check_refused(servers("a:1, b:2 ,a:1"), 4, "SERVERS in row PARK: ", "a:1 is listed twice");
}

TEST_CASE("HEARTBEAT must be smaller than SESSIONTIMEOUT, reported on the HEARTBEAT line") {
  check_refused(park_doc("<SESSIONTIMEOUT>3000</SESSIONTIMEOUT>\n<HEARTBEAT>3000</HEARTBEAT>"), 5,
                "HEARTBEAT in row PARK: ", "smaller than SESSIONTIMEOUT (3000 ms), got '3000'");
  check_refused(park_doc("<HEARTBEAT>5000</HEARTBEAT>\n<SESSIONTIMEOUT>4000</SESSIONTIMEOUT>"), 4,
                "HEARTBEAT in row PARK: ", "smaller than SESSIONTIMEOUT (4000 ms)");
  check_refused(park_doc("<HEARTBEAT>7000</HEARTBEAT>"), 4,
                "HEARTBEAT in row PARK: ", "smaller than SESSIONTIMEOUT (6000 ms, the default)");
  check_refused(park_doc("<SESSIONTIMEOUT>1000</SESSIONTIMEOUT>"), 4,
                "SESSIONTIMEOUT in row PARK: ", "larger than HEARTBEAT (1000 ms, the default)");
  CHECK(parse_ok(park_doc("<SESSIONTIMEOUT>1000</SESSIONTIMEOUT><HEARTBEAT>999</HEARTBEAT>")).park.heartbeat.count() ==
        999);
}

TEST_CASE("a missing PARK row or SERVERS element is refused") {
  check_refused("<PROPSTABLE>\n<PROPSROW DESC=\"LOG\"><LEVELNAME>info</LEVELNAME></PROPSROW>\n</PROPSTABLE>", 1,
                "row PARK: ", "is missing");
  check_refused("<PROPSTABLE/>", 1, "row PARK: ", "is missing");
  check_refused("<PROPSTABLE>\n\n<PROPSROW DESC=\"PARK\">\n<HEARTBEAT>500</HEARTBEAT>\n</PROPSROW>\n</PROPSTABLE>", 3,
                "row PARK: ", "SERVERS is required");
}

TEST_CASE("a duplicate element or row is refused, but CACHEGROUP may repeat") {
  check_refused(park_doc("<HEARTBEAT>500</HEARTBEAT>\n<HEARTBEAT>600</HEARTBEAT>"), 5,
                "HEARTBEAT in row PARK: ", "appears twice in the row (first on line 4), got '600'");
  check_refused(park_doc("", "<PROPSROW DESC=\"WORKER\"><SERVERS>a:1</SERVERS>\n<SERVERS>a:2</SERVERS></PROPSROW>\n"),
                7, "SERVERS in row WORKER: ", "appears twice");
  check_refused(park_doc("", "<PROPSROW DESC=\"LOG\"/>\n<PROPSROW DESC=\"LOG\"/>\n"), 7,
                "row LOG: ", "appears twice (first on line 6)");
  check_refused(park_doc("", "<PROPSROW DESC=\"PARK\"/>\n"), 6, "row PARK: ", "appears twice (first on line 2)");
  Config c = parse_ok(
      park_doc("", R"(<PROPSROW DESC="CACHEGROUP"><STARTTIME>2010-01-01</STARTTIME><GROUP>a:1,b:2</GROUP></PROPSROW>
<PROPSROW DESC="CACHEGROUP"><STARTTIME>2011-01-01</STARTTIME><GROUP>c:3</GROUP></PROPSROW>
<PROPSROW DESC="CACHEGROUP"><GROUP>d:4</GROUP></PROPSROW>
)"));
  CHECK(c.warnings.empty());
  CHECK(c.rows.at("CACHEGROUP").at("GROUP") == "a:1,b:2");
  CHECK(c.rows.at("CACHEGROUP#2").at("STARTTIME") == "2011-01-01");
  CHECK(c.rows.at("CACHEGROUP#3").at("GROUP") == "d:4");
}

TEST_CASE("the original's other rows are kept verbatim, DESC attributes included") {
  Config c = parse_ok(park_doc("", R"(<PROPSROW DESC="WORKER">
  <TIMEOUT DESC="FALSE">2</TIMEOUT>
  <SERVERS>localhost:2088</SERVERS>
</PROPSROW>
<PROPSROW DESC="COMPUTEMODE"><MODE DESC="DEFAULT">0</MODE></PROPSROW>
<PROPSROW DESC="CACHE"/><PROPSROW DESC="CACHEFACADE"/><PROPSROW DESC="CTOR"/>
<PROPSROW DESC="FTTP"><SERVERS>localhost:2121</SERVERS></PROPSROW>
<PROPSROW DESC="WEBAPP"><USERS>admin:admin</USERS></PROPSROW>
)"));
  CHECK(c.warnings.empty());
  CHECK(c.rows.at("WORKER").at("TIMEOUT") == "2");
  CHECK(c.rows.at("WORKER").at("TIMEOUT@DESC") == "FALSE");
  CHECK(c.rows.at("WORKER").at("SERVERS") == "localhost:2088");
  CHECK(c.rows.at("COMPUTEMODE").at("MODE") == "0");
  CHECK(c.rows.at("COMPUTEMODE").at("MODE@DESC") == "DEFAULT");
  CHECK(c.rows.at("CACHE").empty());
  CHECK(c.rows.at("FTTP").at("SERVERS") == "localhost:2121");
  CHECK(c.rows.at("WEBAPP").at("USERS") == "admin:admin");
}

TEST_CASE("unknown elements and rows are warned about with their line, never dropped silently") {
  Config c = parse_ok(park_doc("<HEARTBEATS>500</HEARTBEATS>",
                               "<PROPSROW DESC=\"LOG\">\n<LEVEL>debug</LEVEL>\n</PROPSROW>\n"
                               "<PROPSROW DESC=\"MYSTERY\"><X>1</X></PROPSROW>\n<OTHER/>\n"));
  REQUIRE(c.warnings.size() == 4);
  CHECK(c.warnings[0].file == "c.xml");
  CHECK(c.warnings[0].line == 9);
  CHECK(c.warnings[0].message.find("MYSTERY") != std::string::npos);
  CHECK(c.warnings[1].line == 10);
  CHECK(c.warnings[1].message.find("OTHER") != std::string::npos);
  CHECK(c.warnings[2].line == 4);
  CHECK(c.warnings[2].message == "unknown element HEARTBEATS in row PARK ignored");
  CHECK(c.warnings[3].line == 7);
  CHECK(c.warnings[3].message == "unknown element LEVEL in row LOG ignored");
  CHECK(c.park.heartbeat == std::chrono::milliseconds(1000));
  CHECK(c.log.level == "info");
  CHECK(c.rows.at("MYSTERY").at("X") == "1");
}

TEST_CASE("a row without DESC, a wrong root or nested elements in PARK are refused") {
  check_refused("<PROPSTABLE>\n<PROPSROW>\n</PROPSROW>\n</PROPSTABLE>", 2, "<PROPSROW> needs a DESC", "");
  check_refused("<CONFIG/>", 1, "the root element must be <PROPSTABLE>, got <CONFIG>", "");
  check_refused(park_doc("<DATADIR>\n<PATH>x</PATH></DATADIR>"), 4, "DATADIR in row PARK: ", "plain text");
}

TEST_CASE("malformed XML is refused with the file and line of the problem") {
  check_refused(park_doc("<HEARTBEAT>500</HEARTBEET>"), 4, "close tag </HEARTBEET>", "<HEARTBEAT>");
}

TEST_CASE("LEVELNAME takes spdlog's and the original's names in any case") {
  auto level = [](const std::string& element) {
    return parse_ok(park_doc("", "<PROPSROW DESC=\"LOG\">" + element + "</PROPSROW>\n")).log.level;
  };
  CHECK(level("<LEVELNAME>trace</LEVELNAME>") == "trace");
  CHECK(level("<LEVELNAME>DEBUG</LEVELNAME>") == "debug");
  CHECK(level("<LEVELNAME>Warn</LEVELNAME>") == "warn");
  CHECK(level("<LEVELNAME>error</LEVELNAME>") == "error");
  CHECK(level("<LEVELNAME>critical</LEVELNAME>") == "critical");
  CHECK(level("<LEVELNAME>off</LEVELNAME>") == "off");
  CHECK(level("<LEVELNAME>SEVERE</LEVELNAME>") == "error");
  CHECK(level("<LEVELNAME>WARNING</LEVELNAME>") == "warn");
  CHECK(level("<LEVELNAME>INFO</LEVELNAME>") == "info");
  CHECK(level("<LEVELNAME>CONFIG</LEVELNAME>") == "debug");
  CHECK(level("<LEVELNAME DESC=\"LOGLEVEL\">FINE</LEVELNAME>") == "debug");
  CHECK(level("<LEVELNAME>finer</LEVELNAME>") == "trace");
  CHECK(level("<LEVELNAME>FINEST</LEVELNAME>") == "trace");
  CHECK(level("<LEVELNAME>ALL</LEVELNAME>") == "trace");
  CHECK(level("<LEVELNAME>OFF</LEVELNAME>") == "off");
  CHECK(level("<INFO>true</INFO><FINE>true</FINE>") == "debug");
  CHECK(level("<FINE>true</FINE><LEVELNAME>warn</LEVELNAME>") == "warn");
  CHECK(level("<FINE>false</FINE>") == "info");
  check_refused(park_doc("", "<PROPSROW DESC=\"LOG\">\n<LEVELNAME>loud</LEVELNAME></PROPSROW>\n"), 7,
                "LEVELNAME in row LOG: ", "must be trace, debug");
  check_refused(park_doc("", "<PROPSROW DESC=\"LOG\">\n<FINE>maybe</FINE></PROPSROW>\n"), 7,
                "FINE in row LOG: ", "true or false, got 'maybe'");
  check_refused(park_doc("", "<PROPSROW DESC=\"LOG\">\n<INFO>on</INFO></PROPSROW>\n"), 7,
                "INFO in row LOG: ", "true or false");
}

TEST_CASE("LEVELNAME with another DESC than LOGLEVEL is used but warned about") {
  Config c = parse_ok(park_doc("", "<PROPSROW DESC=\"LOG\">\n<LEVELNAME DESC=\"X\">debug</LEVELNAME></PROPSROW>\n"));
  CHECK(c.log.level == "debug");
  REQUIRE(c.warnings.size() == 1);
  CHECK(c.warnings[0].line == 7);
}

TEST_CASE("LOG FILE resolves against the config folder unless absolute") {
  auto file = [](const std::string& path) {
    return parse_ok(park_doc("", "<PROPSROW DESC=\"LOG\"><FILE>" + path + "</FILE></PROPSROW>\n"), "/srv/app").log.file;
  };
  CHECK(file("log/park.log") == "/srv/app/log/park.log");
  CHECK(file("/var/log/park.log") == "/var/log/park.log");
  CHECK(file("").empty());
}

TEST_CASE("users made by make_user_entry round-trip through config.xml") {
  UserEntry alice = core::make_user_entry("alice", "wonderland", 100);
  UserEntry bob = core::make_user_entry("bob.smith", "builder", 200);
  Config c = parse_ok(park_doc("<USERS>\n  " + core::format_user_entry(alice) + ",\n  " + core::format_user_entry(bob) +
                               ",\n</USERS>"));
  REQUIRE(c.park.users.size() == 2);
  const UserEntry& a = c.park.users[0];
  CHECK(a.name == "alice");
  CHECK(a.iterations == 100);
  CHECK(a.salt == alice.salt);
  CHECK(a.stored_key == alice.stored_key);
  CHECK(a.server_key == alice.server_key);
  CHECK(c.park.users[1].name == "bob.smith");
  CHECK(c.park.users[1].iterations == 200);
  std::string message = core::auth_message("alice", "cn", "sn");
  CHECK(core::verify_client_proof(a, message, core::client_proof("wonderland", a.salt, a.iterations, message)));
}

TEST_CASE("bad USERS entries are refused naming the user") {
  std::string good = core::format_user_entry(core::make_user_entry("carol", "pw", 10));
  check_refused(park_doc("<USERS>" + good + "," + good + "</USERS>"), 4,
                "USERS in row PARK: ", "user carol is listed twice");
  check_refused(park_doc("<USERS>dave:10:c2FsdA==</USERS>"), 4, "USERS in row PARK: ", "user dave: expected");
  check_refused(park_doc("<USERS>" + good + ",erin:0:c2FsdA==:x:y</USERS>"), 4,
                "USERS in row PARK: ", "user erin: iterations");
  check_refused(park_doc("<USERS>frank:10:c2FsdA==:notbase64:x</USERS>"), 4,
                "USERS in row PARK: ", "user frank: the stored key");
  check_refused(park_doc("<USERS>gr@ce:10:c2FsdA==:x:y</USERS>"), 4, "USERS in row PARK: ", "gr@ce");
}

TEST_CASE("GROUPKEY and GROUPKEYFILE give the group's secret; a group with USERS must have one") {
  const std::string user = "<USERS>" + core::format_user_entry(core::make_user_entry("carol", "pw", 10)) + "</USERS>";
  const std::string group = "<SERVERS>localhost:1888,localhost:1889</SERVERS>";
  auto group_doc = [&](const std::string& extra) {
    return "<PROPSTABLE>\n<PROPSROW DESC=\"PARK\">\n" + group + "\n" + extra + "\n</PROPSROW>\n</PROPSTABLE>\n";
  };
  CHECK(parse_ok(park_doc("")).park.group_key.empty());
  CHECK(parse_ok(park_doc("<GROUPKEY>0123456789abcdefXYZ</GROUPKEY>")).park.group_key == "0123456789abcdefXYZ");
  CHECK(parse_ok(group_doc(user + "\n<GROUPKEY>0123456789abcdef</GROUPKEY>")).park.users.size() == 1);
  CHECK(parse_ok(park_doc(user)).park.users.size() == 1);  // one server: nobody to prove anything to

  // Too short: refused on its line, and the secret is not repeated in the message.
  auto r = parse_config(park_doc("<GROUPKEY>short-secret</GROUPKEY>"), "c.xml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Errc::config_error);
  CHECK(r.status().message().rfind("c.xml:4: GROUPKEY in row PARK: must be a secret of at least 16", 0) == 0);
  CHECK(r.status().message().find("short-secret") == std::string::npos);
  check_refused(group_doc(user), 2, "row PARK: ", "no GROUPKEY or GROUPKEYFILE");

  auto dir = temp_dir("groupkey");
  {
    std::ofstream out(dir / "group.key");
    out << "  kkkkkkkkkkkkkkkkkkkkkkkk  \nsecond line is ignored\n";
    std::ofstream shorter(dir / "short.key");
    shorter << "tiny\n";
  }
  Config c = parse_ok(group_doc(user + "\n<GROUPKEYFILE>group.key</GROUPKEYFILE>"), dir.string());
  CHECK(c.park.group_key == std::string(24, 'k'));
  check_refused(park_doc("<GROUPKEYFILE>" + (dir / "absent.key").string() + "</GROUPKEYFILE>"), 4,
                "GROUPKEYFILE in row PARK: ", "cannot read " + (dir / "absent.key").string() + ": No such file");
  check_refused(park_doc("<GROUPKEYFILE>" + (dir / "short.key").string() + "</GROUPKEYFILE>"), 4,
                "GROUPKEYFILE in row PARK: ", "at least 16 characters");
  check_refused(park_doc("<GROUPKEY>0123456789abcdef</GROUPKEY>\n<GROUPKEYFILE>" + (dir / "group.key").string() +
                         "</GROUPKEYFILE>"),
                5, "GROUPKEYFILE in row PARK: ", "both given");
  std::filesystem::remove_all(dir);
}

TEST_CASE("the commented USERS example in the repository's config.xml is a well-formed entry") {
  std::ifstream in(std::string(FOURINONE_SOURCE_DIR) + "/config.xml");
  std::stringstream text;
  text << in.rdbuf();
  std::string file = text.str();
  auto begin = file.find("<USERS>");
  auto end = file.find("</USERS>");
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  auto entry = core::parse_user_entry(file.substr(begin + 7, end - begin - 7));
  INFO(entry.status().to_string());
  CHECK(entry.ok());
}

TEST_CASE("load_config reports a missing file with the reason") {
  auto r = load_config("/nonexistent/fourinone/config.xml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Errc::config_error);
  CHECK(r.status().message() == "/nonexistent/fourinone/config.xml: cannot read: No such file or directory");
  auto dir = temp_dir("dir");
  auto d = load_config(dir.string());
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().find("cannot read") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("load_config resolves relative paths against the file's folder") {
  auto dir = temp_dir("load");
  std::string path = (dir / "my.xml").string();
  {
    std::ofstream out(path);
    out << park_doc("<DATADIR>d</DATADIR>", "<PROPSROW DESC=\"LOG\"><FILE>l/x.log</FILE></PROPSROW>\n");
  }
  auto r = load_config(path);
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  CHECK(r->file == path);
  CHECK(std::filesystem::equivalent(r->dir, dir));
  CHECK(r->resolved_data_dir() == r->dir + "/d");
  CHECK(r->log.file == r->dir + "/l/x.log");
  auto bad = load_config(path + ".missing");
  CHECK_FALSE(bad.ok());
  {
    std::ofstream out(path);
    out << park_doc("<MAXNAME>x</MAXNAME>");
  }
  auto refused = load_config(path);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().rfind(path + ":4: MAXNAME in row PARK: ", 0) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("setup_logging writes to LOG FILE and falls back to stderr when it cannot") {
  auto previous = spdlog::default_logger();
  auto dir = temp_dir("log");
  LogConfig log;
  log.level = "debug";
  log.file = (dir / "sub" / "x.log").string();
  core::setup_logging(log, "tester");
  core::setup_logging(log, "tester");  // idempotent
  spdlog::debug("hello from the test");
  spdlog::trace("below the level");
  std::ifstream in(log.file);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str().find("hello from the test") != std::string::npos);
  CHECK(text.str().find("tester[") != std::string::npos);
  CHECK(text.str().find("below the level") == std::string::npos);
  CHECK(spdlog::default_logger()->level() == spdlog::level::debug);

  log.file = (dir / "x.log" / "cannot" / "be").string();
  std::ofstream(dir / "x.log") << "a file, not a folder";
  log.level = "off";  // keep the fallback warning out of the test output
  core::setup_logging(log, "tester");
  CHECK(spdlog::default_logger()->level() == spdlog::level::off);
  spdlog::set_default_logger(previous);
  std::filesystem::remove_all(dir);
}

TEST_CASE("ADMINS names users of USERS who may change the group's members") {
  const std::string carol = core::format_user_entry(core::make_user_entry("carol", "pw", 10));
  const std::string dan = core::format_user_entry(core::make_user_entry("dan", "pw", 10));
  const std::string users = "<USERS>" + carol + "," + dan + "</USERS>";
  CHECK(parse_ok(park_doc(users)).park.admins.empty());
  CHECK(parse_ok(park_doc("<ADMINS> dan , carol </ADMINS>\n" + users)).park.admins ==
        std::vector<std::string>{"dan", "carol"});
  check_refused(park_doc(users + "\n<ADMINS>carol,erin</ADMINS>"), 5, "ADMINS in row PARK: ",
                "names 'erin', who is not in USERS");
  check_refused(park_doc("<ADMINS>carol</ADMINS>"), 4, "ADMINS in row PARK: ", "USERS is empty");
}

TEST_CASE("PARK/HTTP gives each server of SERVERS its HTTP port, one per entry, and refuses anything else") {
  auto doc = [](const std::string& http) {
    return "<PROPSTABLE>\n<PROPSROW DESC=\"PARK\">\n<SERVERS>h:1,h:2</SERVERS>\n<HTTP>" + http +
           "</HTTP>\n</PROPSROW>\n</PROPSTABLE>\n";
  };
  Config c = parse_ok(doc("h:9080, h:9081"));
  REQUIRE(c.park.http.size() == 2);
  CHECK(c.park.http[1].to_string() == "h:9081");
  CHECK(parse_ok(park_doc("")).park.http.empty());
  check_refused(doc("h:9080"), 4, "HTTP in row PARK", "lists 1 addresses for 2 SERVERS");
  check_refused(doc("h:9080,nope"), 4, "HTTP in row PARK", "bad server address 'nope'");
  check_refused(doc("h:9080,h:9080"), 4, "HTTP in row PARK", "listed twice");
}
