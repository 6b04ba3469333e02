// RoleHttp: the HTTP port of a cache or fttp server (fourinone cache/fttp --http): /metrics and
// a small status page of name/value rows. Both are gathered on the role's io thread (posted
// there and waited for up to 2 s), so the role's state needs no locks.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/asio.hpp"
#include "core/http_server.hpp"
#include "core/metrics.hpp"

namespace fourinone::core {

class RoleHttp {
 public:
  using Rows = std::vector<std::pair<std::string, std::string>>;
  struct Sources {
    std::function<void(MetricsWriter&)> metrics;  // io thread
    std::function<Rows()> rows;                   // io thread
  };

  // Logins and TLS from `config` (core::http_options).
  RoleHttp(std::string title, const Config& config, boost::asio::io_context& io, Sources sources);
  Status start(const std::string& host, std::uint16_t port) { return server_.start(host, port); }
  void stop() { server_.stop(); }
  std::uint16_t port() const { return server_.port(); }

 private:
  HttpReply handle(const HttpRequest& request);

  std::string title_;
  boost::asio::io_context& io_;
  Sources sources_;
  HttpServer server_;
};

}  // namespace fourinone::core
