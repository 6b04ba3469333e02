// Workers trust only logged-in contractors (issue #17): with USERS in config.xml a worker's port
// takes a task only on a connection that logged in as a user, so a stranger who finds the
// worker's address in the park (or scans for it) cannot make it run anything.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include <signal.h>

#include "core/asio.hpp"
#include "core/auth.hpp"
#include "core/rpc_client.hpp"
#include "core/wire_archive.hpp"
#include "fourinone/contractor.hpp"
#include "tests/support/pass_through.hpp"
#include "tests/support/park_fixture.hpp"
#include "worker/protocol.hpp"

using namespace std::chrono_literals;
using fourinone::test::PassThrough;
using fourinone::Errc;
using fourinone::WareHouse;
using fourinone::test::Process;
using fourinone::test::RunningPark;
using fourinone::test::ScopedLogin;

namespace {

// Connects to a worker with this login and sends one task; how it went.
fourinone::Status send_task_as(const fourinone::ServerAddress& worker, const std::string& user,
                               const std::string& password) {
  boost::asio::io_context io;
  fourinone::core::RpcClientOptions options;
  options.user = user;
  options.password = password;
  std::shared_ptr<fourinone::core::RpcClient> client;
  fourinone::Status outcome(Errc::timeout, "no answer");
  bool done = false;
  fourinone::core::RpcClient::connect(io, worker, options, [&](auto r) {
    if (!r.ok()) {
      outcome = r.status();
      done = true;
      return;
    }
    client = r.value();
    WareHouse task{{"op", "square"}, {"n", 3}};
    fourinone::detail::WorkerRequest request{fourinone::detail::WorkerCall::task, 1, 0, task.encode()};
    client->call(fourinone::core::encode(request), std::chrono::steady_clock::now() + 5s, [&](auto reply) {
      outcome = reply.status();
      done = true;
    });
  });
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!done && std::chrono::steady_clock::now() < until) io.run_one_for(100ms);
  if (client) client->close();
  return outcome;
}

}  // namespace

TEST_CASE("with users configured, a worker takes tasks only from a logged-in contractor") {
  const std::string users =
      fourinone::core::format_user_entry(fourinone::core::make_user_entry("alice", "wonderland", 100));
  RunningPark park(RunningPark::Settings{{"USERS", users}});
  ScopedLogin login("alice", "wonderland");  // for the worker process and the contractor
  Process worker({FOURINONE_TEST_WORKER, "--config", park.config.path, "--type", "squares"},
                 park.dir.file("worker"));
  auto config = fourinone::load_config(park.config.path);
  REQUIRE(config.ok());
  PassThrough contractor(config.value());
  std::vector<fourinone::WorkerLocal> workers;
  REQUIRE(fourinone::test::wait_until(
      [&] {
        auto listed = contractor.get_waiting_workers("squares");
        if (listed.ok()) workers = listed.value();
        return !workers.empty();
      },
      10s));
  const auto address = workers.front().info().address;

  // A logged-in contractor gets its answer.
  CHECK(workers.front().do_task(WareHouse{{"op", "square"}, {"n", 7}}).wait().get_int("square").value() == 49);
  CHECK(send_task_as(address, "alice", "wonderland").ok());
  // No login, a wrong password, an unknown user: refused before any task is read.
  CHECK(send_task_as(address, "", "").code() == Errc::unauthenticated);
  CHECK(send_task_as(address, "alice", "looking-glass").code() == Errc::unauthenticated);
  CHECK(send_task_as(address, "mallory", "wonderland").code() == Errc::unauthenticated);
  // The worker is unharmed by the attempts.
  CHECK(workers.front().do_task(WareHouse{{"op", "square"}, {"n", 8}}).wait().get_int("square").value() == 64);
  worker.signal(SIGTERM);
  worker.wait(5s);
}
