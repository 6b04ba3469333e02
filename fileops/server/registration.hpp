// Registration: keeps a file server registered in the park as a heartbeat instance of the
// FTTP service (ServiceRegistry), from a thread of its own.
//
// The instance is the server's HOST:PORT, with metadata roots=NAME[:ro],... It disappears
// when the server stops (the Park is closed) or dies (its session expires). A park that is
// down at start, or a session that expired, is retried every second: files are served all
// the while, only the listing of servers lags.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "fourinone/config.hpp"

namespace fourinone::fileops {

class Registration {
 public:
  Registration(const Config& config, std::string service, std::string address, std::map<std::string, std::string> metadata);
  ~Registration();  // deregisters (closes the park session) and joins

 private:
  void loop();

  Config config_;
  std::string service_;
  std::string address_;
  std::map<std::string, std::string> metadata_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace fourinone::fileops
