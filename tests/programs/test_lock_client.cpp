// A lock contender or election candidate in its own process, for the lock and election tests
// (tests/integration/lock_test.cpp). Prints one line per step, flushed, for the test to read:
//
//   fourinone_test_lock_client lock CONFIG NAME ROUNDS HOLD_MS HISTORY_NODE
//     ROUNDS times: lock; append "enter T" to the fenced park node lockhist/HISTORY_NODE;
//     hold HOLD_MS; append "exit T"; unlock. Prints "acquired T", "entered T", then
//     "exited T" or "refused T" (the fencing check turned the write away), "released T".
//   fourinone_test_lock_client elect CONFIG NAME VALUE
//     campaigns; prints "leader VALUE T" when elected, appends "VALUE T" to the fenced node
//     electhist/NAME and prints "recorded T", then leads until killed; prints "lost" and exits 3 if leadership ends.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "fourinone/election.hpp"
#include "fourinone/lock.hpp"

namespace {

void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

std::unique_ptr<fourinone::Park> connect(const char* config_path) {
  auto config = fourinone::load_config(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().to_string().c_str());
    return nullptr;
  }
  auto options = fourinone::ParkOptions::from_config(*config);
  options.call_timeout = std::chrono::milliseconds(10000);
  options.connect_timeout = std::chrono::milliseconds(1000);
  auto park = fourinone::Park::connect(options);
  if (!park.ok()) {
    std::fprintf(stderr, "%s\n", park.status().to_string().c_str());
    return nullptr;
  }
  return std::move(park).value();
}

std::function<std::string(std::string_view)> append(const std::string& line) {
  return [line](std::string_view old) { return std::string(old) + line + "\n"; };
}

int contend(fourinone::Park& park, const std::string& name, int rounds, int hold_ms, const std::string& history) {
  fourinone::DistributedLock lock(park, name);
  for (int i = 0; i < rounds; ++i) {
    auto token = lock.lock();
    if (!token.ok()) return say("error " + token.status().to_string()), 1;
    std::string t = std::to_string(*token);
    say("acquired " + t);
    auto entered = fourinone::fenced_update(park, "lockhist", history, *token, append("enter " + t));
    say((entered.ok() ? "entered " : "refused ") + t);
    std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
    auto exited = fourinone::fenced_update(park, "lockhist", history, *token, append("exit " + t));
    say((exited.ok() ? "exited " : "refused ") + t);
    if (!exited.ok() && exited.status().code() != fourinone::Errc::bad_version) say("error " + exited.status().to_string());
    fourinone::Status released = lock.unlock();
    say(released.ok() ? "released " + t : "unlock " + released.to_string());
  }
  return 0;
}

int elect(fourinone::Park& park, const std::string& name, const std::string& value) {
  fourinone::LeaderElection election(park, name, value);
  std::atomic<bool> lost{false};
  election.on_lost([&](const fourinone::Status&) { lost = true; });
  auto token = election.campaign();
  if (!token.ok()) return say("error " + token.status().to_string()), 1;
  say("leader " + value + " " + std::to_string(*token));
  auto wrote = fourinone::fenced_update(park, "electhist", name, *token,
                                        append(value + " " + std::to_string(*token)));
  say(wrote.ok() ? "recorded " + std::to_string(*token) : "refused " + wrote.status().to_string());
  while (!lost) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  say("lost");
  return 3;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (!((mode == "lock" && argc == 7) || (mode == "elect" && argc == 5))) {
    std::fprintf(stderr, "usage: %s lock CONFIG NAME ROUNDS HOLD_MS HISTORY | elect CONFIG NAME VALUE\n", argv[0]);
    return 2;
  }
  auto park = connect(argv[2]);
  if (!park) return 1;
  if (mode == "lock") return contend(*park, argv[3], std::atoi(argv[4]), std::atoi(argv[5]), argv[6]);
  return elect(*park, argv[3], argv[4]);
}
