// ParkHttp: a park server's HTTP port (PARK/HTTP or fourinone park --http): the status page,
// a read-only browser of domains and nodes, sessions, running jobs, and /metrics.
//
// DESIGN: pages are rendered on the HttpServer's own thread. What they show of this server is
// gathered on the park's io thread (posted there, waited for up to a deadline), so the store
// needs no locks and a slow browser never holds up Raft. The group table asks every other
// member for its own status over the wire (as fourinone ctl status does), so each row is that
// server's own view: role, term, commit index; the lag is the commit index behind the
// highest one seen.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/asio.hpp"
#include "core/http_server.hpp"
#include "fourinone/config.hpp"
#include "fourinone/park.hpp"

namespace fourinone::park {

class ParkService;
struct ParkServerOptions;

// options.http, else this server's entry of PARK/HTTP (same position as in SERVERS).
std::optional<ServerAddress> http_address(const ParkServerOptions& options);

class ParkHttp {
 public:
  ParkHttp(ParkService& service, boost::asio::io_context& io);
  ~ParkHttp();
  Status start(const ServerAddress& address);
  void stop();
  std::uint16_t port() const { return server_.port(); }

 private:
  core::HttpReply handle(const core::HttpRequest& request);
  core::HttpReply overview(const core::HttpRequest& request);
  core::HttpReply domains_page(const core::HttpRequest& request);
  core::HttpReply domain_page(const core::HttpRequest& request);
  core::HttpReply node_page(const core::HttpRequest& request);
  core::HttpReply sessions_page(const core::HttpRequest& request);
  core::HttpReply metrics();
  // POST /node (admins only): action=create|update|delete of one node, through the log.
  core::HttpReply change(const core::HttpRequest& request);
  // Every member's own status, asked over the wire (this server's from memory).
  struct MemberView {
    std::string address;
    std::optional<ParkStatus> status;  // nullopt: did not answer
    std::string error;
  };
  std::vector<MemberView> group_view(const ParkStatus& self);

  ParkService& service_;
  boost::asio::io_context& io_;
  core::HttpServer server_;
  std::mutex peers_mutex_;
  std::map<std::string, std::unique_ptr<Park>> peers_;  // connections to the other members
};

}  // namespace fourinone::park
