// HttpServer: the small HTTP/1.1 server (Boost.Beast) behind every role's status page and
// /metrics. It is for operators and scrapers, not for load: one thread of its own, so a slow
// page never holds up the role's io thread, and the handler may block briefly to ask that
// thread for data.
//
// Logins: when users are configured (PARK/USERS) every path but /login needs a session
// (a random token in an HttpOnly, SameSite=Strict cookie, made by POST /login with the same
// password as the wire's login), or HTTP Basic credentials, which is what Prometheus sends.
// A browser without a session is sent to /login; anything else gets 401. Every POST but
// /login must carry the session's csrf token, so another site cannot post in a user's name.
// With TLS configured (PARK/TLSCA ...) the port speaks HTTPS only, with the server's
// certificate; without it, passwords travel in the clear: keep the port on a trusted network.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tls.hpp"
#include "fourinone/config.hpp"
#include "fourinone/error.hpp"

namespace fourinone::core {

struct HttpRequest {
  std::string method;                         // "GET", "POST", ...
  std::string path;                           // decoded, without the query
  std::map<std::string, std::string> query;   // decoded
  std::map<std::string, std::string> form;    // decoded application/x-www-form-urlencoded body
  std::string user;                           // who logged in ("" without users)
  bool admin = false;                         // a logged-in user listed as an admin
  std::string csrf;                           // the session's token for forms ("" without a session)
  bool logins = false;                        // users are configured (a logout link makes sense)
};

struct HttpReply {
  unsigned status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpReply text(unsigned status, std::string body);
  static HttpReply redirect(const std::string& location);
};

struct HttpServerOptions {
  std::string title;                  // names the process on the login page, e.g. "park server h:1888"
  std::vector<UserEntry> users;       // empty: no login
  std::vector<std::string> admins;    // users who may change things through the pages
  std::size_t max_body = 64 * 1024;   // larger requests get 413
  std::size_t max_connections = 128;  // more are closed at once
  // HTTPS with this server context (TlsContext::for_server: PARK/TLSCERT and TLSKEY, client
  // certificates with TLSCLIENTCERTS); nullptr: plain HTTP.
  std::shared_ptr<TlsContext> tls;
};

// The options every role's HTTP port takes from config.xml: PARK/USERS and ADMINS for logins,
// and HTTPS when TLS is on (PARK/TLSCA, TLSCERT, TLSKEY).
HttpServerOptions http_options(std::string title, const Config& config);

class HttpServer {
 public:
  using Handler = std::function<HttpReply(const HttpRequest&)>;

  HttpServer(HttpServerOptions options, Handler handler);
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (0: any free port) and starts serving on a thread of its own.
  // Errors: unavailable (address taken or unresolvable).
  Status start(const std::string& host, std::uint16_t port);
  // Closes the listener and every connection and joins the thread. Idempotent.
  void stop();
  std::uint16_t port() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Escapes text for HTML element content and attribute values.
std::string html_escape(std::string_view text);
// Percent-encodes a query parameter value.
std::string url_encode(std::string_view text);
// Decodes %XX and '+' (as in forms). Malformed escapes are kept as they are.
std::string url_decode(std::string_view text);
// Splits "a=1&b=2" into decoded pairs; later keys win.
std::map<std::string, std::string> parse_query(std::string_view text);

}  // namespace fourinone::core
