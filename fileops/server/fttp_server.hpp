// FttpServer: one file server (`fourinone fttp --server HOST:PORT`), exposing the roots of
// the FTTP row of config.xml.
//
// DESIGN: the io thread runs the RpcServer (hello, login when PARK/USERS is set, frames) and
// does nothing slow: each request is decoded there and handed to a pool of FTTP/THREADS disk
// threads, which run FileOps (pread/pwrite, open, rename, fsync) and post the answer back to
// the connection's thread. Requests of one connection may therefore be answered out of
// order, which is what lets parallel blocks use several disks threads at once. A copy runs
// on a pool of its own, since it waits on another server. Registration in the park runs on
// its own thread too (Registration), so a park that is down or slow never stalls files.
// When a connection closes, the two-phase writes it opened are aborted.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/asio.hpp"
#include "core/role_http.hpp"
#include "core/rpc_server.hpp"
#include "fileops/fttp_config.hpp"
#include "fileops/server/file_ops.hpp"

namespace fourinone::fileops {

class Registration;

struct FttpServerOptions {
  Config config;
  ServerAddress self;
  bool register_in_park = true;
  std::optional<ServerAddress> http;  // status page and /metrics (fourinone fttp --http)
};

class FttpServer final : public core::RpcHandler {
 public:
  // Loads the FTTP row, opens the roots, binds, starts registering in the park.
  // Errors: config_error (bad row, a root folder that cannot be opened), unavailable (port taken).
  static Result<std::unique_ptr<FttpServer>> start(FttpServerOptions options);
  ~FttpServer() override;

  // Serves until SIGINT/SIGTERM or stop(); then leaves the park.
  void run();
  void stop();  // any thread

  void on_request(const core::RpcConnectionPtr& connection, std::uint64_t id, std::string_view body) override;
  void on_open(const core::RpcConnectionPtr& connection) override;
  void on_close(const core::RpcConnectionPtr& connection) override;

 private:
  FttpServer(FttpServerOptions options, FttpSettings settings, std::vector<RootFs> roots);
  // Pushes the file of `request` to the fttp URL in request.path2 (a copy-pool thread).
  std::string copy(const proto::Request& request);
  void write_metrics(core::MetricsWriter& out) const;

  FttpServerOptions options_;
  FttpSettings settings_;
  std::string self_;
  FileOps ops_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  std::shared_ptr<core::NetStats> net_stats_ = std::make_shared<core::NetStats>();
  std::unique_ptr<core::RpcServer> rpc_;
  std::unique_ptr<core::RoleHttp> http_;
  core::Counter requests_;
  std::shared_ptr<core::TlsContext> copy_tls_;  // TLS of copies to other servers; nullptr: off
  boost::asio::thread_pool disk_;
  boost::asio::thread_pool copies_;
  std::unique_ptr<Registration> registration_;
  bool stopping_ = false;  // io thread
};

}  // namespace fourinone::fileops
