// Restarts, crashes and killed clients, with real processes.
#include <doctest/doctest.h>

#include <signal.h>

#include <thread>

#include "tests/support/park_fixture.hpp"
#include "tests/support/tcp_relay.hpp"

using namespace std::chrono_literals;
using fourinone::Errc;
using fourinone::test::Process;
using fourinone::test::RunningPark;
using fourinone::test::wait_until;

TEST_CASE("data survives a clean restart and a kill -9 of the server") {
  RunningPark park;
  {
    auto p = park.connect();
    for (int i = 0; i < 50; ++i) REQUIRE(p->create("persist", "n" + std::to_string(i), std::to_string(i)).ok());
    REQUIRE(p->update("persist", "n7", "seven").ok());
    REQUIRE(p->remove("persist", "n9").ok());
  }
  CHECK(park.server.stop() == 0);
  REQUIRE(park.server.start());
  {
    auto p = park.connect();
    auto nodes = p->list("persist");
    REQUIRE(nodes.ok());
    CHECK(nodes->size() == 49);
    CHECK(p->get("persist", "n7")->value == "seven");
    CHECK(p->get("persist", "n7")->version == 2);
    CHECK(p->get("persist", "n9").status().code() == Errc::not_found);
    REQUIRE(p->create("persist", "after-restart", "x").ok());
  }
  // Every acknowledged write is durable: a crash loses none of them.
  park.server.kill();
  REQUIRE(park.server.start());
  auto p = park.connect();
  CHECK(p->list("persist")->size() == 50);
  CHECK(p->get("persist", "after-restart").ok());
  auto seq = p->create_sequential("persist", "s");
  REQUIRE(seq.ok());
}

TEST_CASE("a client carries on by itself after the server restarts") {
  RunningPark park;
  auto p = park.connect();
  REQUIRE(p->create("c", "before", "1").ok());
  park.server.kill();
  REQUIRE(park.server.start());
  auto after = p->create("c", "after", "2");
  REQUIRE_MESSAGE(after.ok(), after.status().to_string());
  CHECK(p->get("c", "before")->value == "1");
}

TEST_CASE("a call to a dead server fails with unavailable instead of hanging") {
  RunningPark park;
  auto options = park.options();
  park.server.kill();
  auto p = fourinone::Park::connect(options);
  CHECK(p.status().code() == Errc::unavailable);
}

TEST_CASE("the heartbeat node of a client killed with SIGKILL goes within the session timeout") {
  RunningPark park;  // SESSIONTIMEOUT 2000 ms
  auto observer = park.connect();
  Process holder({FOURINONE_BIN, "ctl", "--config", park.config.path, "create", "group", "victim", "alive",
                  "--heartbeat"},
                 park.dir.file("holder"));
  REQUIRE(wait_until([&] { return observer->get("group", "victim").ok(); }, 5s));
  // Alive and heartbeating: still there after more than a session timeout.
  std::this_thread::sleep_for(2500ms);
  REQUIRE(observer->get("group", "victim").ok());
  auto killed_at = std::chrono::steady_clock::now();
  holder.signal(SIGKILL);
  CHECK(holder.wait(5s) == 128 + SIGKILL);
  REQUIRE(wait_until([&] { return observer->get("group", "victim").status().code() == Errc::not_found; }, 6s));
  auto gone_after = std::chrono::steady_clock::now() - killed_at;
  CHECK(gone_after < 3500ms);  // timeout 2 s + one expiry tick + the round trips
}

TEST_CASE("sessions survive a server restart and expire if their client is gone") {
  RunningPark park;
  auto survivor = park.connect();
  fourinone::CreateOptions hb;
  hb.heartbeat = true;
  REQUIRE(survivor->create("group", "survivor", "x", hb).ok());
  {
    Process doomed({FOURINONE_BIN, "ctl", "--config", park.config.path, "create", "group", "doomed", "x",
                    "--heartbeat"},
                   park.dir.file("doomed"));
    REQUIRE(wait_until([&] { return survivor->get("group", "doomed").ok(); }, 5s));
    doomed.signal(SIGKILL);
    doomed.wait(5s);
  }
  park.server.kill();
  REQUIRE(park.server.start());
  // The restarted server gives every session a fresh timeout: the live client reconnects and
  // keeps its node; the dead one's node goes.
  auto observer = park.connect();
  REQUIRE(wait_until([&] { return observer->get("group", "doomed").status().code() == Errc::not_found; }, 8s));
  std::this_thread::sleep_for(1s);
  CHECK(observer->get("group", "survivor").ok());
  CHECK(survivor->session_state() == fourinone::SessionState::connected);
}

TEST_CASE("a client cut off past its session timeout sees expired, and open_session starts a new session") {
  RunningPark park;
  fourinone::test::TcpRelay relay(park.config.port);
  auto options = park.options();
  options.servers = {fourinone::ServerAddress{"127.0.0.1", relay.port()}};
  auto client = fourinone::Park::connect(options);
  REQUIRE(client.ok());
  fourinone::CreateOptions heartbeat;
  heartbeat.heartbeat = true;
  REQUIRE(client.value()->create("members", "me", "1", heartbeat).ok());
  const std::uint64_t first_session = client.value()->session_id();
  CHECK(client.value()->session_state() == fourinone::SessionState::connected);

  relay.set_blocked(true);  // the cable is cut: no heartbeats reach the park
  auto observer = park.connect();
  REQUIRE(wait_until([&] { return observer->get("members", "me").status().code() == Errc::not_found; }, 10s));
  relay.set_blocked(false);
  REQUIRE(wait_until([&] { return client.value()->session_state() == fourinone::SessionState::expired; }, 10s));

  // Fencing: nothing is done under the dead session, until the application opens a new one.
  CHECK(client.value()->create("members", "me", "2", heartbeat).status().code() == Errc::session_expired);
  REQUIRE(client.value()->open_session().ok());
  CHECK(client.value()->session_state() == fourinone::SessionState::connected);
  CHECK(client.value()->session_id() != first_session);
  auto again = client.value()->create("members", "me", "3", heartbeat);
  REQUIRE_MESSAGE(again.ok(), again.status().to_string());
  CHECK(again->session == client.value()->session_id());
}
