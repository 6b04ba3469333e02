// Contractors and migrant workers through the public API, with real worker processes
// (tests/programs/test_worker.cpp) and a real park server, all on loopback.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/rpc_client.hpp"
#include "core/wire_archive.hpp"
#include "fourinone/contractor.hpp"
#include "fourinone/registry.hpp"
#include "tests/support/pass_through.hpp"
#include "tests/support/park_fixture.hpp"
#include "worker/protocol.hpp"

using namespace std::chrono_literals;
using fourinone::test::PassThrough;
using fourinone::Contractor;
using fourinone::Errc;
using fourinone::JobOptions;
using fourinone::TaskState;
using fourinone::WareHouse;
using fourinone::test::Process;
using fourinone::test::RunningPark;

namespace {

// A park server plus worker processes of the test worker.
struct Farm {
  Farm() : config(fourinone::load_config(park.config.path).value()) {}

  Process& start_worker(const std::string& type, int capacity = 1, bool service = false, int slow_ms = 0) {
    std::vector<std::string> argv{FOURINONE_TEST_WORKER, "--config", park.config.path, "--type", type, "--capacity",
                                  std::to_string(capacity), "--slow-ms", std::to_string(slow_ms)};
    if (service) argv.push_back("--service");
    workers.push_back(std::make_unique<Process>(argv, park.dir.file("worker" + std::to_string(workers.size()))));
    return *workers.back();
  }

  // Waits until `n` workers of `type` are registered.
  void wait_for(Contractor& contractor, const std::string& type, std::size_t n) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      auto listed = contractor.get_waiting_workers(type);
      REQUIRE(listed.ok());
      if (listed->size() >= n) return;
      REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until,
                      "only " << listed->size() << " of " << n << " workers registered; last worker log: "
                              << (workers.empty() ? std::string() : workers.back()->err()));
      std::this_thread::sleep_for(20ms);
    }
  }

  // Starts one worker of `type` and returns the handle on it.
  fourinone::WorkerLocal only_worker(Contractor& contractor, const std::string& type, bool service = false) {
    start_worker(type, 1, service);
    wait_for(contractor, type, 1);
    return contractor.get_waiting_workers(type).value().at(0);
  }

  ~Farm() {
    for (auto& w : workers) {
      if (w->running()) w->signal(SIGTERM);
    }
    for (auto& w : workers) {
      if (w->wait(5s) < 0) w->signal(SIGKILL);
    }
  }

  RunningPark park;
  fourinone::Config config;
  std::vector<std::unique_ptr<Process>> workers;
};

std::vector<WareHouse> square_tasks(int count, int ms = 0) {
  std::vector<WareHouse> tasks;
  for (int i = 0; i < count; ++i) {
    WareHouse task{{"op", "square"}, {"n", i}};
    if (ms > 0) task.put("ms", ms);
    tasks.push_back(task);
  }
  return tasks;
}

void check_squares(const fourinone::JobResult& job, int count) {
  REQUIRE(job.results.size() == static_cast<std::size_t>(count));
  CHECK(job.failed == 0);
  for (int i = 0; i < count; ++i) {
    INFO("task ", i, ": ", job.results[i].to_string());
    REQUIRE(job.results[i].ready());
    CHECK(job.results[i].get_int("square").value() == std::int64_t{i} * i);
  }
}

JobOptions quiet() {
  JobOptions options;
  options.progress_line = false;
  return options;
}

}  // namespace

TEST_CASE("a job of 200 tasks over two workers comes back complete, in task order, from both") {
  Farm farm;
  farm.start_worker("squares");
  farm.start_worker("squares", 2);
  PassThrough contractor(farm.config);
  farm.wait_for(contractor, "squares", 2);

  auto job = contractor.run_job("squares", square_tasks(200), quiet());
  REQUIRE_MESSAGE(job.ok(), job.status().to_string());
  check_squares(job.value(), 200);
  CHECK(job->tasks_per_worker.size() == 2);
  // The progress node says the job is done.
  auto node = contractor.park().get(fourinone::kJobDomain, job->progress_node.substr(job->progress_node.find('/') + 1));
  REQUIRE(node.ok());
  CHECK(node->value.rfind("done=200 total=200 failed=0", 0) == 0);
}

TEST_CASE("a worker killed with SIGKILL mid-job: its tasks run elsewhere and the job completes correctly") {
  Farm farm;
  farm.start_worker("squares");
  Process& victim = farm.start_worker("squares");
  PassThrough contractor(farm.config);
  farm.wait_for(contractor, "squares", 2);

  std::thread killer([&] {
    std::this_thread::sleep_for(300ms);
    victim.signal(SIGKILL);
  });
  auto job = contractor.run_job("squares", square_tasks(60, 20), quiet());
  killer.join();
  REQUIRE_MESSAGE(job.ok(), job.status().to_string());
  check_squares(job.value(), 60);
  CHECK(job->reruns >= 1);  // the task the victim was running went to the other worker
}

TEST_CASE("a worker that registers mid-job receives tasks") {
  Farm farm;
  farm.start_worker("squares");
  PassThrough contractor(farm.config);
  farm.wait_for(contractor, "squares", 1);

  std::thread joiner([&] {
    std::this_thread::sleep_for(300ms);
    farm.start_worker("squares");
  });
  auto job = contractor.run_job("squares", square_tasks(100, 20), quiet());
  joiner.join();
  REQUIRE_MESSAGE(job.ok(), job.status().to_string());
  check_squares(job.value(), 100);
  REQUIRE(job->tasks_per_worker.size() == 2);
  for (const auto& [worker, count] : job->tasks_per_worker) CHECK(count >= 5);
}

TEST_CASE("interrupt stops a running task, which answers with what it returned") {
  Farm farm;
  farm.start_worker("sleepers");
  PassThrough contractor(farm.config);
  farm.wait_for(contractor, "sleepers", 1);
  auto workers = contractor.get_waiting_workers("sleepers").value();

  auto result = workers[0].do_task(WareHouse{{"op", "sleep"}, {"ms", 20000}});
  CHECK(result.state() == TaskState::not_ready);
  CHECK_FALSE(result.wait_for(200ms));
  const auto asked = std::chrono::steady_clock::now();
  result.interrupt();
  REQUIRE(result.wait_for(3s));
  CHECK(std::chrono::steady_clock::now() - asked < 2s);
  WareHouse out = result.wait();
  CHECK(out.ready());
  CHECK(out.get_bool("interrupted").value());
}

TEST_CASE("a task that runs past its timeout becomes EXCEPTION naming the timeout, and the worker goes on") {
  Farm farm;
  PassThrough contractor(farm.config);
  auto worker = farm.only_worker(contractor, "sleepers");

  const auto sent = std::chrono::steady_clock::now();
  auto result = worker.do_task(WareHouse{{"op", "sleep"}, {"ms", 20000}}, 300ms);
  WareHouse out = result.wait();
  CHECK(std::chrono::steady_clock::now() - sent < 3s);
  CHECK(out.failed());  // cut short: whatever do_task returned after the interrupt is not a result
  CHECK(out.error().find("timed out after 300 ms") != std::string::npos);
  // The worker was told to stop the task, so it is free for the next one at once.
  auto next = worker.do_task(WareHouse{{"op", "square"}, {"n", 7}});
  REQUIRE(next.wait_for(3s));
  CHECK(next.wait().get_int("square").value() == 49);
}

TEST_CASE("an exception thrown by do_task arrives as EXCEPTION with its message, and the worker keeps serving") {
  Farm farm;
  PassThrough contractor(farm.config);
  auto worker = farm.only_worker(contractor, "thrower");

  WareHouse out = worker.do_task(WareHouse{{"op", "throw"}, {"message", "the mailbox is locked"}}).wait();
  CHECK(out.state() == TaskState::exception);
  CHECK(out.error().find("the mailbox is locked") != std::string::npos);
  CHECK(worker.do_task(WareHouse{{"op", "square"}, {"n", 3}}).wait().get_int("square").value() == 9);

  // In a job an exception is the task's result: not re-run, counted as failed.
  std::vector<WareHouse> tasks = square_tasks(5);
  tasks[2] = WareHouse{{"op", "throw"}, {"message", "bad input 2"}};
  auto job = contractor.run_job("thrower", tasks, quiet());
  REQUIRE(job.ok());
  CHECK(job->failed == 1);
  CHECK(job->reruns == 0);
  CHECK(job->results[2].error().find("bad input 2") != std::string::npos);
  CHECK(job->results[4].get_int("square").value() == 16);
}

TEST_CASE("a worker that dies mid-task makes the result EXCEPTION promptly") {
  Farm farm;
  PassThrough contractor(farm.config);
  auto worker = farm.only_worker(contractor, "sleepers");
  Process& process = *farm.workers.back();

  auto result = worker.do_task(WareHouse{{"op", "sleep"}, {"ms", 30000}});
  CHECK_FALSE(result.wait_for(200ms));
  process.signal(SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  REQUIRE(result.wait_for(5s));
  CHECK(std::chrono::steady_clock::now() - killed < 2s);
  CHECK(result.wait().failed());
  CHECK(result.wait().error().find(worker.address()) != std::string::npos);
}

TEST_CASE("with no worker registered: an empty list, and run_job fails with unavailable after its wait") {
  Farm farm;
  PassThrough contractor(farm.config);
  auto listed = contractor.get_waiting_workers("nobody");
  REQUIRE(listed.ok());
  CHECK(listed->empty());

  JobOptions options = quiet();
  options.wait_for_workers = 300ms;
  const auto started = std::chrono::steady_clock::now();
  auto job = contractor.run_job("nobody", square_tasks(3), options);
  REQUIRE_FALSE(job.ok());
  CHECK(job.status().code() == Errc::unavailable);
  CHECK(job.status().message().find("no worker of type nobody") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - started < 3s);
}

TEST_CASE("a malformed task payload is refused with a clear error, and the worker keeps serving") {
  Farm farm;
  PassThrough contractor(farm.config);
  auto worker = farm.only_worker(contractor, "squares");

  // Talk the worker wire by hand: a task whose payload is not a WareHouse.
  boost::asio::io_context io;
  std::shared_ptr<fourinone::core::RpcClient> client;
  fourinone::Status connected(Errc::timeout, "no answer");
  fourinone::core::RpcClient::connect(io, worker.info().address, {}, [&](auto r) {
    connected = r.status();
    if (r.ok()) client = r.value();
  });
  // The client keeps reading once connected, so run the loop only until what we wait for.
  auto run_until = [&io](const auto& done) {
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < until) io.run_one_for(100ms);
  };
  run_until([&] { return client != nullptr || connected.code() != Errc::timeout; });
  REQUIRE_MESSAGE(client, connected.to_string());
  fourinone::detail::WorkerRequest request{fourinone::detail::WorkerCall::task, 1, 0, "\x01garbage"};
  fourinone::detail::WorkerReply reply;
  bool answered = false;
  fourinone::Status decoded;
  client->call(fourinone::core::encode(request), std::chrono::steady_clock::now() + 5s, [&](auto r) {
    answered = true;
    decoded = r.ok() ? fourinone::core::decode(r.value(), reply, "reply") : r.status();
  });
  run_until([&] { return answered; });
  client->close();
  REQUIRE(answered);
  REQUIRE_MESSAGE(decoded.ok(), decoded.to_string());
  CHECK(reply.status.code() == Errc::bad_request);
  CHECK(reply.status.message().find("task payload refused") != std::string::npos);

  CHECK(worker.do_task(WareHouse{{"op", "square"}, {"n", 5}}).wait().get_int("square").value() == 25);
}

TEST_CASE("a service worker refuses interrupts; its task runs to the end") {
  Farm farm;
  PassThrough contractor(farm.config);
  auto worker = farm.only_worker(contractor, "service", true);
  CHECK(worker.info().service);

  auto result = worker.do_task(WareHouse{{"op", "sleep"}, {"ms", 400}});
  std::this_thread::sleep_for(50ms);
  result.interrupt();
  WareHouse out = result.wait();
  CHECK(out.ready());
  CHECK_FALSE(out.get_bool("interrupted").value());
}

TEST_CASE("receive delivers a message to a worker, and do_task_batch sends one input to every worker") {
  Farm farm;
  farm.start_worker("talk");
  farm.start_worker("talk");
  PassThrough contractor(farm.config);
  farm.wait_for(contractor, "talk", 2);
  auto workers = contractor.get_waiting_workers("talk").value();
  REQUIRE(workers.size() == 2);

  CHECK(workers[0].receive(WareHouse{{"text", "hello"}, {"accept", true}}).value());
  CHECK_FALSE(workers[1].receive(WareHouse{{"text", "no thanks"}, {"accept", false}}).value());
  auto results = contractor.do_task_batch(workers, WareHouse{{"op", "last_message"}});
  REQUIRE(results.size() == 2);
  CHECK(results[0].get_string("message").value() == "hello");
  CHECK(results[1].get_string("message").value() == "no thanks");
  CHECK(results[0].get_string("worker").value() == workers[0].address());
}

TEST_CASE("contractors chain: each output feeds the next give_task") {
  struct Add : Contractor {
    Add(fourinone::Config c, int k) : Contractor(std::move(c)), k(k) {}
    WareHouse give_task(const WareHouse& in) override {
      return WareHouse{{"v", in.get_int("v").value() + k}};
    }
    int k;
  };
  fourinone::Config config;
  Add a(config, 1), b(config, 10), c(config, 100);
  a.to_next(b).to_next(c);
  CHECK(a.run_chain(WareHouse{{"v", 0}}).get_int("v").value() == 111);
  Contractor& first = a;
  CHECK(first.give_task(WareHouse{{"v", 0}}, true).get_int("v").value() == 111);
  CHECK(first.give_task(WareHouse{{"v", 0}}, false).get_int("v").value() == 1);
  CHECK(b.run_chain(WareHouse{{"v", 0}}).get_int("v").value() == 110);
  CHECK(c.run_chain(WareHouse{{"v", 0}}).get_int("v").value() == 100);
}

TEST_CASE("near the end of a job a straggler's task runs again on an idle worker, and the first answer is used") {
  for (bool speculative : {true, false}) {
    INFO("speculative ", speculative);
    Farm farm;
    farm.start_worker("mixed");                  // fast
    farm.start_worker("mixed", 1, false, 4000);  // every task takes 4 s longer here
    PassThrough contractor(farm.config);
    farm.wait_for(contractor, "mixed", 2);
    std::string slow;
    for (const auto& w : contractor.get_waiting_workers("mixed").value()) {
      if (w.info().pid == farm.workers.back()->pid()) slow = w.address();
    }
    REQUIRE_FALSE(slow.empty());

    JobOptions options = quiet();
    options.speculative = speculative;
    auto job = contractor.run_job("mixed", square_tasks(20, 10), options);
    REQUIRE_MESSAGE(job.ok(), job.status().to_string());
    check_squares(job.value(), 20);
    const std::size_t from_slow = job->tasks_per_worker.count(slow) ? job->tasks_per_worker.at(slow) : 0;
    if (speculative) {
      // The slow worker's one task was copied to the fast worker, whose answer came first.
      CHECK(from_slow == 0);
      CHECK(job->reruns >= 1);
    } else {
      CHECK(from_slow == 1);
      CHECK(job->reruns == 0);
    }
  }
}

TEST_CASE("a worker whose park session expired (frozen with SIGSTOP) registers again when it wakes, and serves") {
  Farm farm;
  PassThrough contractor(farm.config);
  auto worker = farm.only_worker(contractor, "frozen");
  Process& process = *farm.workers.back();

  process.signal(SIGSTOP);  // no heartbeats: the park ends its session (2 s in the test config)
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!contractor.get_waiting_workers("frozen").value().empty()) {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until, "the frozen worker's node did not go");
    std::this_thread::sleep_for(100ms);
  }
  process.signal(SIGCONT);
  farm.wait_for(contractor, "frozen", 1);
  auto again = contractor.get_waiting_workers("frozen").value().at(0);
  CHECK(again.address() == worker.address());
  CHECK(again.info().since_revision > worker.info().since_revision);  // a new registration
  CHECK(again.do_task(WareHouse{{"op", "square"}, {"n", 4}}).wait().get_int("square").value() == 16);
}

TEST_CASE("a worker whose registration the park refuses exits with the reason instead of crashing") {
  Farm farm;
  // Another client holds the node the worker would register as, read-only for everyone else.
  const std::uint16_t port = fourinone::test::free_port();
  auto squatter = farm.park.connect();
  fourinone::CreateOptions read_only;
  read_only.policy = fourinone::Policy::read;
  REQUIRE(squatter->create(fourinone::worker_domain("taken"), "127.0.0.1:" + std::to_string(port), "mine", read_only).ok());

  Process worker({FOURINONE_TEST_WORKER, "--config", farm.park.config.path, "--type", "taken", "--port",
                  std::to_string(port)},
                 farm.park.dir.file("refused_worker"));
  CHECK(worker.wait(10s) == 1);
  CHECK(worker.err().find("cannot register worker 127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(worker.err().find("never expires") != std::string::npos);
}

TEST_CASE("workers are instances of the registry service workers.<type>, with their load, owned by themselves") {
  Farm farm;
  PassThrough contractor(farm.config);
  farm.start_worker("listed", 3);
  farm.wait_for(contractor, "listed", 1);
  auto park = farm.park.connect();
  fourinone::ServiceRegistry registry(*park);
  auto live = registry.instances(fourinone::worker_service("listed"));
  REQUIRE(live.ok());
  REQUIRE(live->size() == 1);
  const fourinone::Instance instance = live->at(0);
  CHECK(instance.address == instance.id);
  CHECK(instance.metadata.at("type") == "listed");
  CHECK(instance.metadata.at("capacity") == "3");
  CHECK(instance.metadata.at("load") == "0");

  // A running task shows as load in the registry, and goes when it ends.
  auto handle = contractor.get_waiting_workers("listed").value().at(0);
  auto slow = handle.do_task(WareHouse{{"op", "square"}, {"n", 3}, {"ms", 1500}});
  auto load_is = [&](const std::string& want) {
    const auto until = std::chrono::steady_clock::now() + 5s;
    for (;;) {
      auto now = registry.instances(fourinone::worker_service("listed"));
      if (now.ok() && now->size() == 1 && now->at(0).metadata.at("load") == want) return true;
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(20ms);
    }
  };
  CHECK(load_is("1"));
  auto cli = fourinone::test::run_program({FOURINONE_BIN, "ctl", "--config", farm.park.config.path, "services",
                                           fourinone::worker_service("listed")});
  CHECK(cli.code == 0);
  CHECK_MESSAGE(cli.out == instance.id + " " + instance.address + " capacity=3 load=1 pid=" +
                               instance.metadata.at("pid") + " service=0 type=listed\n",
                cli.out);
  CHECK(slow.wait().get_int("square").value() == 9);
  CHECK(load_is("0"));

  // Another client may list the worker but neither change nor remove its entry.
  CHECK(registry.deregister(fourinone::worker_service("listed"), instance.id).code() == Errc::no_permission);
  CHECK(registry.update_metadata(fourinone::worker_service("listed"), instance.id, {}).code() == Errc::no_permission);
  CHECK(contractor.get_waiting_workers("listed").value().size() == 1);
}

TEST_CASE("a worker restarted at the address of one killed with SIGKILL registers once the dead one's session ends") {
  Farm farm;
  PassThrough contractor(farm.config);
  const std::uint16_t port = fourinone::test::free_port();
  auto start_at_port = [&](const std::string& name) {
    farm.workers.push_back(std::make_unique<Process>(
        std::vector<std::string>{FOURINONE_TEST_WORKER, "--config", farm.park.config.path, "--type", "restarted",
                                 "--port", std::to_string(port)},
        farm.park.dir.file(name)));
    return farm.workers.back().get();
  };
  Process* first = start_at_port("first");
  farm.wait_for(contractor, "restarted", 1);
  const auto before = contractor.get_waiting_workers("restarted").value().at(0).info().since_revision;

  first->signal(SIGKILL);
  REQUIRE(first->wait(5s) >= 0);
  start_at_port("second");  // its entry is still the dead worker's until that session ends
  const auto until = std::chrono::steady_clock::now() + 15s;
  for (;;) {
    auto listed = contractor.get_waiting_workers("restarted").value();
    CHECK(listed.size() <= 1);
    if (listed.size() == 1 && listed[0].info().since_revision > before) break;
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until,
                    "the restarted worker did not register: " << farm.workers.back()->err());
    std::this_thread::sleep_for(50ms);
  }
  CHECK(farm.workers.back()->running());
  auto worker = contractor.get_waiting_workers("restarted").value().at(0);
  CHECK(worker.info().address.port == port);
  CHECK(worker.do_task(WareHouse{{"op", "square"}, {"n", 5}}).wait().get_int("square").value() == 25);
}
