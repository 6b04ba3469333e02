// fourinone_test_worker: a migrant worker for the worker tests. What it does is chosen by each
// task's "op":
//   square   n -> n*n (and "worker": our address)
//   sleep    ms -> sleeps in 5 ms steps until ms pass or it is interrupted; "interrupted": bool
//   throw    message -> throws std::runtime_error(message)
//   echo     anything -> the input back, plus "worker"
// receive() accepts a message whose "accept" is true and remembers the last one; the task
// "last_message" returns it.
//
// --slow-ms N makes every task on this worker take N ms longer (a straggler machine).
// --http HOST:PORT serves the worker's status page and /metrics there.
//
//   fourinone_test_worker --config F --type T [--port P] [--capacity N] [--service] [--slow-ms N]
//                         [--http HOST:PORT]
#include <chrono>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "fourinone/worker.hpp"

namespace {

class TestWorker : public fourinone::MigrantWorker {
 public:
  TestWorker(fourinone::Config config, fourinone::WorkerOptions options, int slow_ms)
      : MigrantWorker(std::move(config), options), slow_ms_(slow_ms) {}

 protected:
  fourinone::WareHouse do_task(const fourinone::WareHouse& input) override {
    const auto slow_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(slow_ms_);
    while (std::chrono::steady_clock::now() < slow_until && !is_interrupted()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const std::string op = input.get_string("op").value();
    fourinone::WareHouse out;
    out.put("worker", address() ? address()->to_string() : "");
    if (op == "square") {
      const std::int64_t n = input.get_int("n").value();
      if (auto ms = input.get_int("ms"); ms.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(*ms));
      out.put("n", n).put("square", n * n);
    } else if (op == "sleep") {
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(input.get_int("ms").value());
      while (std::chrono::steady_clock::now() < until && !is_interrupted()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      out.put("interrupted", is_interrupted());
    } else if (op == "throw") {
      throw std::runtime_error(input.get_string("message").value());
    } else if (op == "echo") {
      for (const auto& [key, value] : input) out.put(key, value);
    } else if (op == "last_message") {
      std::lock_guard lock(mutex_);
      out.put("message", last_message_);
    } else {
      throw std::invalid_argument("unknown op " + op);
    }
    return out;
  }

  bool receive(const fourinone::WareHouse& message) override {
    std::lock_guard lock(mutex_);
    last_message_ = message.get_string("text").value_or("");
    return message.get_bool("accept").value_or(true);
  }

 private:
  const int slow_ms_;
  std::mutex mutex_;
  std::string last_message_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string config_path, type = "test";
  std::uint16_t port = 0;
  int slow_ms = 0;
  fourinone::WorkerOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (flag == "--config") config_path = next();
    else if (flag == "--type") type = next();
    else if (flag == "--port") port = static_cast<std::uint16_t>(std::stoi(next()));
    else if (flag == "--capacity") options.capacity = static_cast<std::uint32_t>(std::stoi(next()));
    else if (flag == "--service") options.service = true;
    else if (flag == "--slow-ms") slow_ms = std::stoi(next());
    else if (flag == "--http") options.http = fourinone::parse_server_address(next()).value();
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  auto config = fourinone::load_config(config_path);
  if (!config.ok()) {
    std::cerr << config.status().to_string() << "\n";
    return 2;
  }
  TestWorker worker(config.value(), options, slow_ms);
  fourinone::Status s = worker.wait_working("127.0.0.1", port, type);
  if (!s.ok()) {
    std::cerr << "worker: " << s.to_string() << "\n";
    return 1;
  }
  return 0;
}
