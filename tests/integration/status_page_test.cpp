// The park server's HTTP port (PARK/HTTP): /metrics in Prometheus's format (checked by
// promtool), the status pages, the login, and bad requests; and the status page in a real
// headless Chromium against a three-server group that loses its leader.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>

#include "core/auth.hpp"
#include "core/base64.hpp"
#include "fourinone/contractor.hpp"
#include "tests/support/pass_through.hpp"
#include "tests/support/cache_cluster.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/park_group.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_pki.hpp"

using namespace std::chrono_literals;
using fourinone::test::PassThrough;
using fourinone::test::free_port;
using fourinone::test::http_get;
using fourinone::test::http_raw;
using fourinone::test::https_get;
using fourinone::test::http_request;
using fourinone::test::HttpResult;
using fourinone::test::ParkGroup;
using fourinone::test::Process;
using fourinone::test::run_program;
using fourinone::test::wait_until;

namespace {

const std::string kGroupKey = "status-page-group-key-0123456789";

std::string users() {
  return fourinone::core::format_user_entry(fourinone::core::make_user_entry("alice", "wonderland", 100)) + "," +
         fourinone::core::format_user_entry(fourinone::core::make_user_entry("bob", "builder", 100));
}

std::string basic(const std::string& user, const std::string& password) {
  return "Basic " + fourinone::core::encode_base64(user + ":" + password);
}

// The value of a sample line "NAME{LABELS} VALUE" (or "NAME VALUE"); -1 when absent.
double sample(const std::string& text, const std::string& series) {
  std::size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + series.size() + 1));
    at += series.size();
  }
  return -1;
}

std::string http_list(const std::vector<std::uint16_t>& ports) {
  std::string list;
  for (auto p : ports) list += (list.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(p);
  return list;
}

// promtool from Debian's prometheus package (.ci/install-deps installs it).
const char* kPromtool = "/usr/bin/promtool";

}  // namespace

TEST_CASE("a park server serves /metrics that promtool accepts, with figures that follow the load") {
  const std::uint16_t http = free_port();
  ParkGroup group(1, ParkGroup::Settings{{"HTTP", http_list({http})}});
  REQUIRE(group.start_all());
  REQUIRE(group.wait_for_leader());
  auto park = group.connect();
  REQUIRE(park->create("d", "a", "1").ok());
  REQUIRE(park->update("d", "a", "2").ok());

  HttpResult metrics = http_get(http, "/metrics");
  REQUIRE_MESSAGE(metrics.status == 200, metrics.error);
  CHECK(metrics.headers["content-type"].find("text/plain; version=0.0.4") == 0);
  const std::string& text = metrics.body;
  CHECK(sample(text, "fourinone_raft_is_leader") == 1);
  CHECK(sample(text, "fourinone_raft_role{role=\"leader\"}") == 1);
  CHECK(sample(text, "fourinone_raft_term") >= 1);
  CHECK(sample(text, "fourinone_park_nodes") == 1);
  CHECK(sample(text, "fourinone_park_domains") == 1);
  CHECK(sample(text, "fourinone_park_sessions") >= 0);
  const double writes = sample(text, "fourinone_park_requests_total{kind=\"write\"}");
  CHECK(writes >= 2);
  CHECK(sample(text, "fourinone_park_request_duration_seconds_count{kind=\"write\"}") >= 2);
  CHECK(sample(text, "fourinone_park_log_write_duration_seconds_count") >= 1);
  CHECK(sample(text, "fourinone_net_received_bytes_total") > 0);
  CHECK(sample(text, "process_resident_memory_bytes") > 0);
  CHECK(sample(text, "fourinone_park_data_dir_bytes") > 0);
  CHECK(text.find("fourinone_build_info{role=\"park\",version=\"") != std::string::npos);
  CHECK(text.find("# TYPE fourinone_park_requests_total counter") != std::string::npos);
  CHECK(text.find("# TYPE fourinone_park_request_duration_seconds histogram") != std::string::npos);

  // A refused create counts as an answer with result "exists".
  const double exists_before = sample(text, "fourinone_park_responses_total{result=\"exists\"}");
  CHECK_FALSE(park->create("d", "a", "3").ok());
  HttpResult later = http_get(http, "/metrics");
  CHECK(sample(later.body, "fourinone_park_requests_total{kind=\"write\"}") == writes + 1);
  CHECK(sample(later.body, "fourinone_park_responses_total{result=\"exists\"}") == exists_before + 1);
  CHECK(sample(later.body, "fourinone_park_revision") >= 2);

  // Prometheus's own checker reads every line.
  const bool promtool_installed = access(kPromtool, X_OK) == 0;
  REQUIRE_MESSAGE(promtool_installed, "promtool is missing: run .ci/install-deps (Debian package prometheus)");
  auto lint = run_program({kPromtool, "check", "metrics"}, later.body, 30s);
  CHECK_MESSAGE(lint.code == 0, lint.out << lint.err);
}

TEST_CASE("the status pages show the store, read-only, without logins; bad requests get clear errors") {
  const std::uint16_t http = free_port();
  ParkGroup group(1, ParkGroup::Settings{{"HTTP", http_list({http})}});
  REQUIRE(group.start_all());
  REQUIRE(group.wait_for_leader());
  auto park = group.connect();
  REQUIRE(park->create("config", "db<url>", "postgres://x?a=1&b=<2>").ok());
  REQUIRE(park->create("fourinone.jobs", "wordcount-1", "done=3 total=10 failed=1 workers=2 running=2 reruns=0").ok());

  HttpResult page = http_get(http, "/");
  REQUIRE_MESSAGE(page.status == 200, page.error);
  CHECK(page.body.find("<span id=\"leader\">" + group.address(0) + "</span>") != std::string::npos);
  CHECK(page.body.find("http-equiv=\"refresh\"") != std::string::npos);
  CHECK(page.body.find("<progress value=\"3\" max=\"10\">") != std::string::npos);
  CHECK(page.body.find("href=\"/metrics\"") != std::string::npos);

  HttpResult domain = http_get(http, "/domain?name=config");
  REQUIRE(domain.status == 200);
  // Names and values are escaped, never markup.
  CHECK(domain.body.find("db&lt;url&gt;") != std::string::npos);
  CHECK(domain.body.find("postgres://x?a=1&amp;b=&lt;2&gt;") != std::string::npos);
  CHECK(domain.body.find("<url>") == std::string::npos);
  HttpResult node = http_get(http, "/node?domain=config&name=db%3Curl%3E");
  CHECK(node.status == 200);
  CHECK(node.body.find("postgres://x?a=1&amp;b=&lt;2&gt;") != std::string::npos);
  CHECK(http_get(http, "/domains").body.find("/domain?name=config") != std::string::npos);
  CHECK(http_get(http, "/sessions").status == 200);

  CHECK(http_get(http, "/domain?name=nope").status == 404);
  CHECK(http_get(http, "/node?domain=config&name=nope").status == 404);
  CHECK(http_get(http, "/nowhere").status == 404);
  // Without logins nobody is an admin: nothing can be changed through the port.
  CHECK(http_request(http, "POST", "/node", {{"Content-Type", "application/x-www-form-urlencoded"}},
                     "action=create&domain=config&name=x&value=1")
            .status == 403);
  CHECK(http_request(http, "PUT", "/node").status == 405);
  CHECK(domain.body.find("<form") == std::string::npos);
  CHECK_FALSE(park->get("config", "x").ok());
  CHECK(http_raw(http, "GARBAGE\r\n\r\n").find("HTTP/1.1 400") == 0);
  CHECK(http_request(http, "POST", "/", {{"Content-Type", "text/plain"}}, std::string(100 * 1024, 'x')).status == 413);
  // The server went on serving.
  CHECK(http_get(http, "/metrics").status == 200);
  CHECK(park->get("config", "db<url>").ok());
}

TEST_CASE("with USERS the port wants a login: pages send browsers to /login, scrapers use Basic credentials") {
  fourinone::test::ScopedLogin login("alice", "wonderland");
  const std::uint16_t http = free_port();
  ParkGroup group(1, ParkGroup::Settings{{"HTTP", http_list({http})}, {"USERS", users()}, {"ADMINS", "alice"}});
  REQUIRE(group.start_all());
  REQUIRE(group.wait_for_leader());

  CHECK(http_get(http, "/metrics").status == 401);
  CHECK(http_get(http, "/metrics").headers["www-authenticate"].find("Basic") == 0);
  CHECK(http_get(http, "/metrics", {{"Authorization", basic("alice", "wrong")}}).status == 401);
  CHECK(http_get(http, "/metrics", {{"Authorization", basic("mallory", "wonderland")}}).status == 401);
  CHECK(http_get(http, "/metrics", {{"Authorization", "Basic !!!notbase64"}}).status == 401);
  CHECK(http_get(http, "/metrics", {{"Authorization", basic("bob", "builder")}}).status == 200);

  HttpResult browser = http_get(http, "/domains", {{"Accept", "text/html"}});
  CHECK(browser.status == 303);
  CHECK(browser.headers["location"] == "/login?next=%2Fdomains");

  const std::map<std::string, std::string> form{{"Content-Type", "application/x-www-form-urlencoded"}};
  HttpResult wrong = http_request(http, "POST", "/login", form, "user=alice&password=nope&next=%2F");
  CHECK(wrong.status == 401);
  CHECK(wrong.headers.count("set-cookie") == 0);
  CHECK(wrong.body.find("Wrong user name or password") != std::string::npos);

  // A login never sends anyone to another site.
  HttpResult right = http_request(http, "POST", "/login", form, "user=bob&password=builder&next=%2F%2Fevil.example");
  REQUIRE(right.status == 303);
  CHECK(right.headers["location"] == "/");
  const std::string cookie = right.headers["set-cookie"];
  CHECK(cookie.find("HttpOnly") != std::string::npos);
  CHECK(cookie.find("SameSite=Strict") != std::string::npos);
  const std::string session = cookie.substr(0, cookie.find(';'));
  HttpResult page = http_get(http, "/", {{"Cookie", session}});
  CHECK(page.status == 200);
  CHECK(page.body.find("<span id=\"user\">bob</span>") != std::string::npos);
  CHECK(page.body.find("(admin)") == std::string::npos);
  // A forged session is nobody.
  CHECK(http_get(http, "/", {{"Cookie", "fourinone_session=00ff"}}).status == 401);
  // Logged out, the cookie is worthless.
  CHECK(http_get(http, "/logout", {{"Cookie", session}}).status == 303);
  CHECK(http_get(http, "/", {{"Cookie", session}}).status == 401);
}

TEST_CASE("with TLS configured the HTTP port speaks HTTPS only, with the server's certificate") {
  fourinone::test::TempDir certs;
  fourinone::test::TestPki pki(certs.path());
  const std::uint16_t http = free_port();
  auto settings = pki.server_settings();
  settings["HTTP"] = http_list({http});
  ParkGroup group(1, settings);
  REQUIRE(group.start_all());
  REQUIRE(group.wait_for_leader());
  HttpResult metrics = https_get(http, "/metrics", pki.ca);
  REQUIRE_MESSAGE(metrics.status == 200, metrics.error);
  CHECK(sample(metrics.body, "fourinone_raft_is_leader") == 1);
  CHECK(https_get(http, "/", pki.ca, "127.0.0.1").status == 200);
  // Plain HTTP gets no page; a client trusting another CA refuses the server.
  CHECK(http_get(http, "/metrics").status == 0);
  HttpResult stranger = https_get(http, "/metrics", pki.other_ca);
  CHECK(stranger.status == 0);
  CHECK_MESSAGE(stranger.error.find("certificate verify failed") != std::string::npos, stranger.error);
  // The server goes on serving.
  CHECK(https_get(http, "/metrics", pki.ca).status == 200);
}

TEST_CASE("a worker's /metrics counts its tasks by result, and the park's page shows the job's progress") {
  const std::uint16_t park_http = free_port();
  const std::uint16_t worker_http = free_port();
  ParkGroup group(1, ParkGroup::Settings{{"HTTP", http_list({park_http})}});
  REQUIRE(group.start_all());
  REQUIRE(group.wait_for_leader());
  fourinone::test::TempDir scratch;
  Process worker({FOURINONE_TEST_WORKER, "--config", group.config_path(), "--type", "metered", "--http",
                  "127.0.0.1:" + std::to_string(worker_http)},
                 scratch.file("worker"));
  REQUIRE(wait_until([&] { return http_get(worker_http, "/metrics").status == 200; }, 10s));

  auto config = fourinone::load_config(group.config_path());
  REQUIRE(config.ok());
  PassThrough contractor(config.value());
  std::vector<fourinone::WareHouse> tasks;
  for (int i = 0; i < 5; ++i) tasks.push_back(fourinone::WareHouse().put("op", "square").put("n", i));
  tasks.push_back(fourinone::WareHouse().put("op", "throw").put("message", "bad input"));
  fourinone::JobOptions options;
  options.progress_line = false;
  options.progress_node = "metered-job";
  options.max_attempts = 1;
  auto job = contractor.run_job("metered", tasks, options);
  REQUIRE(job.ok());

  HttpResult metrics = http_get(worker_http, "/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(sample(metrics.body, "fourinone_worker_tasks_received_total") == 6);
  CHECK(sample(metrics.body, "fourinone_worker_tasks_total{result=\"ok\"}") == 5);
  CHECK(sample(metrics.body, "fourinone_worker_tasks_total{result=\"failed\"}") == 1);
  CHECK(sample(metrics.body, "fourinone_worker_task_duration_seconds_count") == 6);
  CHECK(sample(metrics.body, "fourinone_worker_tasks_active") == 0);
  CHECK(metrics.body.find("fourinone_worker_info{type=\"metered\"") != std::string::npos);
  auto lint = run_program({kPromtool, "check", "metrics"}, metrics.body, 30s);
  CHECK_MESSAGE(lint.code == 0, lint.out << lint.err);
  HttpResult page = http_get(worker_http, "/");
  CHECK(page.status == 200);
  CHECK(page.body.find("<td data-field=\"finished\">6</td>") != std::string::npos);

  // The contractor published the job's progress in the park; the park's page draws it.
  HttpResult park_page = http_get(park_http, "/");
  REQUIRE(park_page.status == 200);
  CHECK(park_page.body.find("data-job=\"metered-job\"") != std::string::npos);
  CHECK(park_page.body.find("<progress value=\"6\" max=\"6\">") != std::string::npos);
  HttpResult park_metrics = http_get(park_http, "/metrics");
  CHECK(sample(park_metrics.body, "fourinone_jobs") == 1);
  CHECK(sample(park_metrics.body, "fourinone_job_tasks{job=\"metered-job\",state=\"done\"}") == 6);
  CHECK(sample(park_metrics.body, "fourinone_job_tasks{job=\"metered-job\",state=\"failed\"}") == 1);
  worker.signal(SIGTERM);
  CHECK(worker.wait(10s) == 0);
}

TEST_CASE("cache and fttp servers serve /metrics and a status page on the HTTP ports config.xml gives them") {
  // A cache server: hits, misses and keys follow the client's calls.
  // A cache server, its HTTP port from CACHE/HTTP: hits, misses and keys follow the client's calls.
  const std::uint16_t cache_http = free_port();
  fourinone::test::CacheCluster cluster({1}, {{"THREADS", "1"}});
  {
    // The cluster picks its servers' ports: add the HTTP element for its server to its CACHE row.
    std::string xml = fourinone::test::read_file(cluster.config_path());
    const std::string row = "<PROPSROW DESC=\"CACHE\">";
    REQUIRE(xml.find(row) != std::string::npos);
    xml.insert(xml.find(row) + row.size(),
               "<HTTP>" + cluster.address(0, 0) + "=127.0.0.1:" + std::to_string(cache_http) + "</HTTP>");
    fourinone::test::write_file(cluster.config_path(), xml);
  }
  REQUIRE(cluster.start_park());
  Process cache({FOURINONE_BIN, "cache", "--config", cluster.config_path(), "--server", cluster.address(0, 0)},
                cluster.dir().file("cache-http"));
  REQUIRE(cluster.wait_for_primary(0, 0));
  auto client = cluster.connect();
  REQUIRE(client->set("k", "v").ok());
  REQUIRE(client->get("k").ok());
  CHECK_FALSE(client->get("absent").ok());
  HttpResult metrics = http_get(cache_http, "/metrics");
  REQUIRE_MESSAGE(metrics.status == 200, metrics.error);
  CHECK(sample(metrics.body, "fourinone_cache_keys") == 1);
  CHECK(sample(metrics.body, "fourinone_cache_hits_total") == 1);
  CHECK(sample(metrics.body, "fourinone_cache_misses_total") == 1);
  CHECK(sample(metrics.body, "fourinone_cache_is_primary") == 1);
  auto lint = run_program({kPromtool, "check", "metrics"}, metrics.body, 30s);
  CHECK_MESSAGE(lint.code == 0, lint.out << lint.err);
  HttpResult page = http_get(cache_http, "/");
  CHECK(page.status == 200);
  CHECK(page.body.find("<td data-field=\"keys\">1</td>") != std::string::npos);
  cache.signal(SIGTERM);
  CHECK(cache.wait(10s) == 0);

  // A file server (not registered, so no park is needed).
  fourinone::test::TempDir dir;
  const std::uint16_t fttp_port = free_port();
  const std::uint16_t fttp_http = free_port();
  fourinone::test::write_test_config(dir.file("config.xml"), "127.0.0.1:" + std::to_string(free_port()),
                                     {{"FTTP/ROOTS", "shared=" + dir.file("files")},
                                      {"FTTP/SERVERS", "127.0.0.1:" + std::to_string(fttp_port)},
                                      {"FTTP/HTTP", "127.0.0.1:" + std::to_string(fttp_http)}});
  Process fttp({FOURINONE_BIN, "fttp", "--config", dir.file("config.xml"), "--server",
                "127.0.0.1:" + std::to_string(fttp_port), "--no-register"},
               dir.file("fttp"));
  REQUIRE(wait_until([&] { return http_get(fttp_http, "/metrics").status == 200 || !fttp.running(); }, 10s));
  HttpResult fttp_metrics = http_get(fttp_http, "/metrics");
  REQUIRE_MESSAGE(fttp_metrics.status == 200, fttp.err());
  CHECK(sample(fttp_metrics.body, "fourinone_fttp_roots") == 1);
  CHECK(fttp_metrics.body.find("fourinone_build_info{role=\"fttp\"") != std::string::npos);
  lint = run_program({kPromtool, "check", "metrics"}, fttp_metrics.body, 30s);
  CHECK_MESSAGE(lint.code == 0, lint.out << lint.err);
  CHECK(http_get(fttp_http, "/").body.find("root shared") != std::string::npos);
  fttp.signal(SIGTERM);
  CHECK(fttp.wait(10s) == 0);
}

TEST_CASE("an admin changes nodes through the page; others cannot; a stale or forged form changes nothing") {
  fourinone::test::ScopedLogin login("alice", "wonderland");
  const std::uint16_t http = free_port();
  ParkGroup group(1, ParkGroup::Settings{{"HTTP", http_list({http})}, {"USERS", users()}, {"ADMINS", "alice"}});
  REQUIRE(group.start_all());
  REQUIRE(group.wait_for_leader());
  auto options = group.options();
  options.user = "alice";
  options.password = "wonderland";
  auto connected = fourinone::Park::connect(options);
  REQUIRE(connected.ok());
  auto park = std::move(connected).value();
  REQUIRE(park->create("config", "url", "old").ok());

  const std::map<std::string, std::string> form{{"Content-Type", "application/x-www-form-urlencoded"}};
  auto session_of = [&](const std::string& user, const std::string& password) {
    HttpResult r = http_request(http, "POST", "/login", form, "user=" + user + "&password=" + password + "&next=%2F");
    REQUIRE(r.status == 303);
    return r.headers["set-cookie"].substr(0, r.headers["set-cookie"].find(';'));
  };
  // The csrf token of a session, as every page names it.
  auto csrf_of = [&](const std::string& cookie) {
    HttpResult page = http_get(http, "/node?domain=config&name=url", {{"Cookie", cookie}});
    const std::string marker = "<meta name=\"csrf-token\" content=\"";
    auto at = page.body.find(marker);
    return at == std::string::npos ? std::string() : page.body.substr(at + marker.size(), 32);
  };
  auto post = [&](const std::string& cookie, const std::string& body) {
    auto headers = form;
    headers["Cookie"] = cookie;
    return http_request(http, "POST", "/node", headers, body);
  };

  const std::string alice = session_of("alice", "wonderland");
  const std::string token = csrf_of(alice);
  REQUIRE(token.size() == 32);
  HttpResult saved = post(alice, "csrf=" + token + "&action=update&domain=config&name=url&version=1&value=new%20%3Cvalue%3E");
  CHECK(saved.status == 303);
  CHECK(park->get("config", "url").value().value == "new <value>");
  // The page she loaded showed version 1; the node is at 2 now: a second save is refused.
  HttpResult stale = post(alice, "csrf=" + token + "&action=update&domain=config&name=url&version=1&value=older");
  CHECK(stale.status == 409);
  CHECK(stale.body.find("bad_version") != std::string::npos);
  CHECK(post(alice, "csrf=" + token + "&action=create&domain=config&name=made&value=v").status == 303);
  CHECK(park->get("config", "made").value().value == "v");
  CHECK(post(alice, "csrf=" + token + "&action=delete&domain=config&name=made&version=1").status == 303);
  CHECK_FALSE(park->get("config", "made").ok());
  // No token, or a wrong one: nothing happens.
  CHECK(post(alice, "action=create&domain=config&name=forged&value=v").status == 403);
  CHECK(post(alice, "csrf=00112233445566778899aabbccddeeff&action=create&domain=config&name=forged&value=v").status == 403);
  CHECK_FALSE(park->get("config", "forged").ok());
  CHECK(post(alice, "csrf=" + token + "&action=explode&domain=config&name=x").status == 400);

  // bob logs in but is not an admin: no forms, and a post is refused.
  const std::string bob = session_of("bob", "builder");
  HttpResult bob_page = http_get(http, "/node?domain=config&name=url", {{"Cookie", bob}});
  CHECK(bob_page.body.find("<form") == std::string::npos);
  const std::string bob_token = csrf_of(bob);
  REQUIRE(bob_token.size() == 32);
  CHECK(bob_token != token);
  HttpResult refused = post(bob, "csrf=" + bob_token + "&action=create&domain=config&name=bobs&value=v");
  CHECK(refused.status == 403);
  CHECK(refused.body.find("PARK/ADMINS") != std::string::npos);
  CHECK_FALSE(park->get("config", "bobs").ok());
}

TEST_CASE("the status page in headless Chromium: login, the real leader, and the new one after the leader dies") {
  fourinone::test::ScopedLogin login("alice", "wonderland");
  std::vector<std::uint16_t> ports{free_port(), free_port(), free_port()};
  ParkGroup group(3, ParkGroup::Settings{{"HTTP", http_list(ports)},
                                         {"USERS", users()},
                                         {"GROUPKEY", kGroupKey},
                                         {"ADMINS", "alice"}});
  REQUIRE(group.start_all());
  auto leader = group.wait_for_leader();
  REQUIRE(leader);
  const std::size_t watched = (*leader + 1) % 3;  // a server that stays up

  const bool browser_installed = access("/usr/bin/chromium", X_OK) == 0 && access("/usr/bin/chromedriver", X_OK) == 0;
  REQUIRE_MESSAGE(browser_installed, "chromium and chromium-driver are missing: run .ci/install-deps");
  fourinone::test::TempDir scratch;
  const std::string expect_file = scratch.file("new-leader");
  Process browser({"/usr/bin/python3", std::string(FOURINONE_SOURCE_DIR) + "/tests/browser/status_page_check.py", "--url",
                   "http://127.0.0.1:" + std::to_string(ports[watched]), "--user", "alice", "--password",
                   "wonderland", "--expect-file", expect_file, "--servers", "3"},
                  scratch.file("browser"));
  const bool showed = wait_until(
      [&] { return browser.out().find("\nROWS ") != std::string::npos || !browser.running(); }, 120s);
  INFO("browser output:\n" << browser.out() << browser.err());
  REQUIRE(showed);
  CHECK(browser.out().find("WRONG_PASSWORD_REFUSED") != std::string::npos);
  CHECK(browser.out().find("LEADER " + group.address(*leader) + "\n") != std::string::npos);
  CHECK(browser.out().find("ROWS 3\n") != std::string::npos);

  group.kill(*leader);
  auto next = group.wait_for_leader();
  REQUIRE(next);
  REQUIRE(*next != *leader);
  fourinone::test::write_file(expect_file + ".tmp", group.address(*next));
  REQUIRE(std::rename((expect_file + ".tmp").c_str(), expect_file.c_str()) == 0);
  CHECK(browser.wait(90s) == 0);
  INFO("browser output:\n" << browser.out() << browser.err());
  CHECK(browser.out().find("NEW_LEADER_SHOWN " + group.address(*next)) != std::string::npos);
}
