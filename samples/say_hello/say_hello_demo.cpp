// SayHelloDemo: one batch to every worker, and workers talking to each other.
//
//   say_hello_demo worker     [--config F] [--name NAME] [--host H] [--port P]
//   say_hello_demo contractor [--config F] [--workers N]
//
// The contractor sends the same task to every worker with do_task_batch (it returns when the
// slowest one has answered). Each worker, on that task, greets every *other* worker directly
// through get_worker_else() + WorkerLocal::receive, then waits until the greetings of all the
// others have reached its own receive(), and answers with what it received and its
// self_index() (its place in the registration order).
//
// The batch is what makes "everyone has heard from everyone" possible: all the tasks run at
// the same time, so every worker is greeting while the others wait. Each batch carries a round
// number so that a greeting from an earlier run is never counted twice.
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fourinone/contractor.hpp"
#include "fourinone/worker.hpp"

namespace {

constexpr const char* kType = "helloworker";

class HelloWorker : public fourinone::MigrantWorker {
 public:
  HelloWorker(fourinone::Config config, std::string name) : MigrantWorker(std::move(config)), name_(std::move(name)) {}

 protected:
  fourinone::WareHouse do_task(const fourinone::WareHouse& in) override {
    const std::int64_t round = in.get_int("round").value();
    std::cout << name_ << ": contractor says '" << in.get_string("text").value() << "'" << std::endl;

    // Greet every other worker of our type. receive() is a blocking call to the other worker.
    const std::vector<fourinone::WorkerLocal> others = get_worker_else().value();
    for (const auto& other : others) {
      fourinone::WareHouse greeting{{"round", round}, {"from", name_}, {"text", "hello from " + name_}};
      auto accepted = other.receive(greeting);
      if (!accepted.ok()) std::cout << name_ << ": could not greet " << other.address() << ": " << accepted.status().to_string() << std::endl;
    }

    // Wait (at most 5 s) until every other worker's greeting for this round has arrived.
    fourinone::WareValue::List heard;
    {
      std::unique_lock lock(mutex_);
      arrived_.wait_for(lock, std::chrono::seconds(5), [&] { return greetings_[round].size() >= others.size(); });
      for (const auto& text : greetings_[round]) heard.emplace_back(text);
      greetings_.erase(round);
    }
    return fourinone::WareHouse{{"name", name_},
                                {"self_index", static_cast<std::int64_t>(self_index().value())},
                                {"greeted", static_cast<std::int64_t>(others.size())},
                                {"heard", heard}};
  }

  // Runs on the worker's own receive thread, possibly while do_task runs: lock.
  bool receive(const fourinone::WareHouse& message) override {
    const std::string text = message.get_string("text").value_or("?");
    std::cout << name_ << ": received '" << text << "'" << std::endl;
    std::lock_guard lock(mutex_);
    greetings_[message.get_int("round").value_or(0)].push_back(text);
    arrived_.notify_all();
    return true;
  }

 private:
  std::string name_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::map<std::int64_t, std::vector<std::string>> greetings_;  // by round
};

class HelloContractor : public fourinone::Contractor {
 public:
  HelloContractor(fourinone::Config config, std::size_t expected) : Contractor(std::move(config)), expected_(expected) {}

  fourinone::WareHouse give_task(const fourinone::WareHouse& in) override {
    std::vector<fourinone::WorkerLocal> workers;
    for (int i = 0; i < 100; ++i) {  // wait up to 10 s for the expected number of workers
      workers = get_waiting_workers(kType).value();
      if (workers.size() >= expected_) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (workers.empty()) throw std::runtime_error("no worker of type helloworker is waiting");
    std::cout << "contractor: sending one batch to " << workers.size() << " worker(s)" << std::endl;

    fourinone::WareHouse out;
    bool complete = true;
    const auto results = do_task_batch(workers, in);  // same input to all; waits for the slowest
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      if (!r.ready()) throw std::runtime_error(workers[i].address() + " failed: " + r.error());
      const auto heard = r.get_list("heard").value();
      std::cout << "  " << r.get_string("name").value() << " (self_index " << r.get_int("self_index").value()
                << ") greeted " << r.get_int("greeted").value() << " and heard " << heard.size() << ":";
      for (const auto& h : heard) std::cout << " '" << h.as_string().value() << "'";
      std::cout << "\n";
      if (heard.size() + 1 != results.size()) complete = false;
    }
    out.put("complete", complete);
    return out;
  }

 private:
  std::size_t expected_;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string role = argc > 1 ? argv[1] : "";
  std::string config_path = "config.xml", host = "127.0.0.1", name = "worker";
  int port = 0, workers = 1;
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    const std::string value = i + 1 < argc ? argv[++i] : "";
    if (flag == "--config") config_path = value;
    else if (flag == "--name") name = value;
    else if (flag == "--host") host = value;
    else if (flag == "--port") port = std::stoi(value);
    else if (flag == "--workers") workers = std::stoi(value);
    else return std::cerr << "unknown flag " << flag << "\n", 2;
  }
  if (role != "worker" && role != "contractor") {
    std::cerr << "usage: say_hello_demo worker|contractor [--config F] [--name NAME] [--host H] [--port P] [--workers N]\n";
    return 2;
  }
  try {
    fourinone::Config config = fourinone::load_config(config_path).value();
    if (role == "worker") {
      HelloWorker worker(config, name);
      fourinone::Status s = worker.wait_working(host, static_cast<std::uint16_t>(port), kType);
      if (!s.ok()) return std::cerr << "worker: " << s.to_string() << "\n", 1;
      return 0;
    }
    HelloContractor contractor(config, static_cast<std::size_t>(workers));
    // The round: any number that differs between runs.
    const auto round = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
    auto out = contractor.give_task(fourinone::WareHouse{{"text", "say hello to the others"}, {"round", round}});
    const bool complete = out.get_bool("complete").value();
    std::cout << (complete ? "every worker heard from every other worker\n" : "some greetings were missing\n");
    return complete ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << role << ": " << e.what() << "\n";
    return 1;
  }
}
