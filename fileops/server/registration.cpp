#include "fileops/server/registration.hpp"

#include <spdlog/spdlog.h>

#include "fourinone/park.hpp"
#include "fourinone/registry.hpp"

namespace fourinone::fileops {

Registration::Registration(const Config& config, std::string service, std::string address,
                           std::map<std::string, std::string> metadata)
    : config_(config), service_(std::move(service)), address_(std::move(address)), metadata_(std::move(metadata)) {
  thread_ = std::thread([this] { loop(); });
}

Registration::~Registration() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Registration::loop() {
  std::unique_ptr<Park> park;
  bool registered = false;
  std::string last_error;
  std::unique_lock lock(mutex_);
  while (!stop_) {
    lock.unlock();
    if (registered && park && park->session_state() == SessionState::expired) {
      spdlog::warn("fttp {}: park session expired; registering again", address_);
      registered = false;
      (void)park->open_session();
    }
    if (!park) {
      auto p = Park::connect(ParkOptions::from_config(config_));
      if (p.ok()) {
        park = std::move(p).value();
      } else if (p.status().to_string() != last_error) {
        last_error = p.status().to_string();
        spdlog::warn("fttp {}: cannot reach the park yet ({}); retrying", address_, last_error);
      }
    }
    if (park && !registered) {
      ServiceRegistry registry(*park);
      Status s = registry.register_instance(service_, address_, address_, metadata_);
      if (s.ok()) {
        registered = true;
        last_error.clear();
        spdlog::info("fttp {}: registered in the park as an instance of '{}'", address_, service_);
      } else if (s.to_string() != last_error) {
        // exists: our previous life's session has not expired yet; it will.
        last_error = s.to_string();
        spdlog::warn("fttp {}: registering: {}; retrying", address_, last_error);
      }
    }
    lock.lock();
    wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; });
  }
  lock.unlock();
  park.reset();  // closes the session: the instance goes at once
}

}  // namespace fourinone::fileops
