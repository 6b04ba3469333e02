// SimpleDemo: the smallest contractor/worker exchange.
//
//   simple_demo worker     [--config F] [--name NAME] [--host H] [--port P]
//   simple_demo contractor [--config F] [--workers N]
//
// A worker registers in the park as type "simpleworker" and waits. The contractor finds every
// waiting worker (after waiting for at least N of them, default 1), sends each the task
// {word: "hello"} at once, and prints each answer: the word plus " world!" and who answered.
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "fourinone/contractor.hpp"
#include "fourinone/worker.hpp"

namespace {

constexpr const char* kType = "simpleworker";

class SimpleWorker : public fourinone::MigrantWorker {
 public:
  SimpleWorker(fourinone::Config config, std::string name) : MigrantWorker(std::move(config)), name_(std::move(name)) {}

 protected:
  fourinone::WareHouse do_task(const fourinone::WareHouse& in) override {
    const std::string word = in.get_string("word").value();  // throws -> the task fails with the message
    std::cout << name_ << ": got '" << word << "'" << std::endl;
    const std::string where = address() ? address()->to_string() : "?";
    return fourinone::WareHouse{{"answer", word + " world! from " + name_ + " at " + where}};
  }

 private:
  std::string name_;
};

class SimpleContractor : public fourinone::Contractor {
 public:
  SimpleContractor(fourinone::Config config, std::size_t expected) : Contractor(std::move(config)), expected_(expected) {}

  fourinone::WareHouse give_task(const fourinone::WareHouse& in) override {
    // Workers may still be starting: wait (up to 10 s) until enough have registered.
    std::vector<fourinone::WorkerLocal> workers;
    for (int i = 0; i < 100; ++i) {
      workers = get_waiting_workers(kType).value();
      if (workers.size() >= expected_) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (workers.empty()) throw std::runtime_error("no worker of type simpleworker is waiting");
    std::cout << "contractor: " << workers.size() << " worker(s) waiting" << std::endl;

    // do_task returns at once: every worker works at the same time; then collect the answers.
    std::vector<fourinone::TaskResult> running;
    for (const auto& w : workers) running.push_back(w.do_task(in));
    fourinone::WareHouse answers;
    for (std::size_t i = 0; i < running.size(); ++i) {
      fourinone::WareHouse result = running[i].wait();
      if (!result.ready()) throw std::runtime_error(workers[i].address() + " failed: " + result.error());
      answers.put(workers[i].address(), result.get_string("answer").value());
    }
    return answers;
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
    std::cerr << "usage: simple_demo worker|contractor [--config F] [--name NAME] [--host H] [--port P] [--workers N]\n";
    return 2;
  }
  try {
    fourinone::Config config = fourinone::load_config(config_path).value();
    if (role == "worker") {
      SimpleWorker worker(config, name);
      fourinone::Status s = worker.wait_working(host, static_cast<std::uint16_t>(port), kType);  // until SIGINT/SIGTERM
      if (!s.ok()) return std::cerr << "worker: " << s.to_string() << "\n", 1;
      return 0;
    }
    SimpleContractor contractor(config, static_cast<std::size_t>(workers));
    fourinone::WareHouse answers = contractor.give_task(fourinone::WareHouse{{"word", "hello"}});
    for (const auto& [worker, answer] : answers) std::cout << worker << " answered: " << answer.as_string().value() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << role << ": " << e.what() << "\n";
    return 1;
  }
}
