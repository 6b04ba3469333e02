// URL decoding is our own: Debian 12's Boost (1.74) predates Boost.URL.
#include "core/http_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <mutex>
#include <thread>
#include <type_traits>

#include "core/asio.hpp"
#include "core/auth.hpp"
#include "core/base64.hpp"

#include <openssl/evp.h>

namespace fourinone::core {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr auto kSessionLifetime = std::chrono::hours(12);
constexpr std::size_t kMaxSessions = 4096;
constexpr const char* kCookie = "fourinone_session";

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string cookie_value(std::string_view header, std::string_view name) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    auto end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    auto part = header.substr(pos, end - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name && part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
    pos = end + 1;
  }
  return {};
}

std::string login_page(const std::string& title, const std::string& next, const std::string& error) {
  std::string page =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Log in · " + html_escape(title) +
      "</title><style>body{font-family:sans-serif;margin:3em}label{display:block;margin:.5em 0}"
      ".error{color:#b00}</style></head><body><h1>Log in</h1><p>" + html_escape(title) + "</p>";
  if (!error.empty()) page += "<p class=\"error\" id=\"login-error\">" + html_escape(error) + "</p>";
  page += "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"next\" value=\"" + html_escape(next) +
          "\"><label>User <input name=\"user\" id=\"user\" autocomplete=\"username\"></label>"
          "<label>Password <input type=\"password\" name=\"password\" id=\"password\" "
          "autocomplete=\"current-password\"></label><button type=\"submit\" id=\"login\">Log in</button></form>"
          "</body></html>";
  return page;
}

// Only local paths are followed after a login: never another site.
std::string safe_next(const std::string& next) {
  if (next.empty() || next[0] != '/' || (next.size() > 1 && (next[1] == '/' || next[1] == '\\'))) return "/";
  return next;
}

}  // namespace

HttpReply HttpReply::text(unsigned status, std::string body) {
  HttpReply r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

HttpReply HttpReply::redirect(const std::string& location) {
  HttpReply r;
  r.status = 303;
  r.headers.emplace_back("Location", location);
  return r;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string url_encode(std::string_view text) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::string url_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && value(text[i + 1]) >= 0 && value(text[i + 2]) >= 0) {
      out += static_cast<char>(value(text[i + 1]) * 16 + value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view text) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos <= text.size() && !text.empty()) {
    auto end = text.find('&', pos);
    if (end == std::string_view::npos) end = text.size();
    auto part = text.substr(pos, end - pos);
    if (!part.empty()) {
      auto eq = part.find('=');
      if (eq == std::string_view::npos) {
        out[url_decode(part)] = "";
      } else {
        out[url_decode(part.substr(0, eq))] = url_decode(part.substr(eq + 1));
      }
    }
    if (end == text.size()) break;
    pos = end + 1;
  }
  return out;
}

struct HttpServer::State {
  HttpServerOptions options;
  Handler handler;
  std::size_t connections = 0;  // before io: its pending handlers hold connections that count down
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::mutex stop_mutex;
  bool stopped = false;

  struct Session {
    std::string user;
    std::string csrf;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<std::string, Session> sessions;  // by token; io thread only
  // Basic credentials already checked (user:password hashed), so a scraper every few seconds
  // does not pay PBKDF2 each time. io thread only.
  std::map<std::string, std::string> basic_ok;

  const UserEntry* find_user(const std::string& name) const {
    for (const auto& u : options.users) {
      if (u.name == name) return &u;
    }
    return nullptr;
  }

  bool password_ok(const std::string& user, const std::string& password) const {
    const UserEntry* entry = find_user(user);
    if (!entry) return false;
    const std::string message = auth_message(user, random_bytes(16), random_bytes(16));
    return verify_client_proof(*entry, message, client_proof(password, entry->salt, entry->iterations, message));
  }

  bool is_admin(const std::string& user) const {
    return std::find(options.admins.begin(), options.admins.end(), user) != options.admins.end();
  }

  void accept() {
    acceptor.async_accept([self = this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec != asio::error::operation_aborted) self->accept();
        return;
      }
      if (self->connections >= self->options.max_connections) {
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        self->serve(std::move(socket));
      }
      self->accept();
    });
  }

  // One connection over Stream: beast::tcp_stream, or beast::ssl_stream<beast::tcp_stream>
  // with TLS (which first runs the handshake).
  template <class Stream>
  struct Connection : std::enable_shared_from_this<Connection<Stream>> {
    State* state;  // outlives every connection: they live in its io_context
    Stream stream;
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
    http::response<http::string_body> response;

    template <class... Args>
    Connection(State* s, Args&&... args) : state(s), stream(std::forward<Args>(args)...) {
      ++state->connections;
    }
    ~Connection() { --state->connections; }

    beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream); }

    void start() {
      if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
        read();
      } else {
        tcp().expires_after(kIdleTimeout);
        stream.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
          if (ec) {
            spdlog::debug("http: TLS handshake failed: {}", ec.message());
            return self->close();
          }
          self->read();
        });
      }
    }

    void read() {
      parser.emplace();
      parser->body_limit(state->options.max_body);
      parser->header_limit(16 * 1024);
      tcp().expires_after(kIdleTimeout);
      http::async_read(stream, buffer, *parser,
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
      if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
          ec == asio::ssl::error::stream_truncated) {
        close();
        return;
      }
      if (ec) {
        HttpReply reply = ec == http::error::body_limit ? HttpReply::text(413, "request too large\n")
                                                       : HttpReply::text(400, "bad request: " + ec.message() + "\n");
        send(reply, false);
        return;
      }
      auto request = parser->release();
      HttpReply reply = state->handle(request);
      send(reply, request.keep_alive());
    }

    void send(const HttpReply& reply, bool keep_alive) {
      response = {};
      response.result(reply.status);
      response.version(11);
      response.set(http::field::server, "fourinone");
      response.set(http::field::content_type, reply.content_type);
      response.set(http::field::cache_control, "no-store");
      response.set("X-Content-Type-Options", "nosniff");
      response.set("X-Frame-Options", "DENY");
      for (const auto& [name, value] : reply.headers) response.insert(name, value);
      response.body() = reply.body;
      response.keep_alive(keep_alive);
      response.prepare_payload();
      tcp().expires_after(kIdleTimeout);
      http::async_write(stream, response,
                        [self = this->shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                          if (ec || !keep_alive) {
                            self->close();
                            return;
                          }
                          self->read();
                        });
    }

    void close() {
      beast::error_code ignored;
      tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
      tcp().socket().close(ignored);
    }
  };

  void serve(tcp::socket socket) {
    if (options.tls) {
      std::make_shared<Connection<beast::ssl_stream<beast::tcp_stream>>>(this, std::move(socket),
                                                                         options.tls->native())
          ->start();
    } else {
      std::make_shared<Connection<beast::tcp_stream>>(this, std::move(socket))->start();
    }
  }

  HttpReply handle(const http::request<http::string_body>& raw) {
    HttpRequest request;
    request.method = std::string(raw.method_string());
    std::string_view target(raw.target().data(), raw.target().size());
    auto question = target.find('?');
    request.path = url_decode(target.substr(0, question));
    if (question != std::string_view::npos) request.query = parse_query(target.substr(question + 1));
    auto content_type = raw[http::field::content_type];
    if (request.method == "POST" &&
        std::string_view(content_type.data(), content_type.size()).find("application/x-www-form-urlencoded") == 0) {
      request.form = parse_query(raw.body());
    }
    request.logins = !options.users.empty();
    if (options.users.empty()) {
      try {
        return handler(request);
      } catch (const std::exception& e) {
        return HttpReply::text(500, std::string("internal error: ") + e.what() + "\n");
      }
    }

    if (request.path == "/login") return login(request);
    if (request.path == "/logout") {
      auto token = cookie_value(std::string_view(raw[http::field::cookie].data(), raw[http::field::cookie].size()), kCookie);
      sessions.erase(token);
      HttpReply reply = HttpReply::redirect("/login");
      reply.headers.emplace_back("Set-Cookie", std::string(kCookie) + "=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict");
      return reply;
    }
    // A session cookie, or Basic credentials (scrapers, curl).
    const auto now = std::chrono::steady_clock::now();
    auto cookie = raw[http::field::cookie];
    auto token = cookie_value(std::string_view(cookie.data(), cookie.size()), kCookie);
    if (auto it = sessions.find(token); !token.empty() && it != sessions.end()) {
      if (it->second.expires > now) {
        request.user = it->second.user;
        request.csrf = it->second.csrf;
      } else {
        sessions.erase(it);
      }
    }
    if (request.user.empty()) {
      auto authorization = raw[http::field::authorization];
      std::string_view header(authorization.data(), authorization.size());
      if (header.substr(0, 6) == "Basic ") request.user = check_basic(header.substr(6));
    }
    if (request.user.empty()) {
      if (request.method == "GET" && raw[http::field::accept].find("text/html") != boost::string_view::npos) {
        return HttpReply::redirect("/login?next=" + url_encode(std::string(target)));
      }
      HttpReply reply = HttpReply::text(401, "log in first: POST /login, or HTTP Basic credentials of PARK/USERS\n");
      reply.headers.emplace_back("WWW-Authenticate", "Basic realm=\"fourinone\", charset=\"UTF-8\"");
      return reply;
    }
    request.admin = is_admin(request.user);
    if (request.method == "POST" && (request.csrf.empty() || request.form["csrf"] != request.csrf)) {
      return HttpReply::text(403, "this form is stale or came from another site: reload the page and try again\n");
    }
    try {
      return handler(request);
    } catch (const std::exception& e) {
      return HttpReply::text(500, std::string("internal error: ") + e.what() + "\n");
    }
  }

  std::string check_basic(std::string_view encoded) {
    auto decoded = decode_base64(encoded);
    if (!decoded) return {};
    const std::string& text = *decoded;
    auto colon = text.find(':');
    if (colon == std::string::npos) return {};
    std::string user = text.substr(0, colon);
    const std::string key = sha256_hex(text);
    if (key.empty()) return {};
    if (auto it = basic_ok.find(key); it != basic_ok.end()) return it->second;
    if (!password_ok(user, text.substr(colon + 1))) return {};
    if (basic_ok.size() > 64) basic_ok.clear();
    basic_ok[key] = user;
    return user;
  }

  // The cache keeps digests, not passwords.
  static std::string sha256_hex(const std::string& text) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(text.data(), text.size(), out, &length, EVP_sha256(), nullptr) != 1) return {};
    return hex(std::string_view(reinterpret_cast<const char*>(out), length));
  }

  HttpReply login(HttpRequest& request) {
    const std::string next = safe_next(request.method == "POST" ? request.form["next"] : request.query["next"]);
    if (request.method != "POST") return html(200, login_page(options.title, next, ""));
    const std::string user = request.form["user"];
    if (!password_ok(user, request.form["password"])) {
      spdlog::warn("http: failed login for user '{}'", user);
      return html(401, login_page(options.title, next, "Wrong user name or password."));
    }
    const auto now = std::chrono::steady_clock::now();
    if (sessions.size() >= kMaxSessions) {
      for (auto it = sessions.begin(); it != sessions.end();) it = it->second.expires <= now ? sessions.erase(it) : ++it;
      if (sessions.size() >= kMaxSessions) sessions.erase(sessions.begin());
    }
    const std::string token = hex(random_bytes(32));
    sessions[token] = Session{user, hex(random_bytes(16)), now + kSessionLifetime};
    HttpReply reply = HttpReply::redirect(next);
    reply.headers.emplace_back("Set-Cookie", std::string(kCookie) + "=" + token + "; Path=/; HttpOnly; SameSite=Strict" +
                                                 (options.tls ? "; Secure" : ""));
    return reply;
  }

  static HttpReply html(unsigned status, std::string body) {
    HttpReply r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
};

HttpServerOptions http_options(std::string title, const Config& config) {
  HttpServerOptions options;
  options.title = std::move(title);
  options.users = config.park.users;
  options.admins = config.park.admins;
  options.tls = TlsContext::for_server(config);
  return options;
}

HttpServer::HttpServer(HttpServerOptions options, Handler handler) : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
  state_->handler = std::move(handler);
}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start(const std::string& host, std::uint16_t port) {
  if (state_->options.tls && !state_->options.tls->status().ok()) return state_->options.tls->status();
  boost::system::error_code ec;
  tcp::resolver resolver(state_->io);
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec || endpoints.empty()) return Status(Errc::unavailable, "cannot resolve http address " + host + ": " + ec.message());
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  state_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) state_->acceptor.bind(endpoint, ec);
  if (!ec) state_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(Errc::unavailable,
                  "cannot serve http on " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  state_->accept();
  state_->thread = std::thread([state = state_.get()] { state->io.run(); });
  return {};
}

void HttpServer::stop() {
  std::lock_guard lock(state_->stop_mutex);
  if (state_->stopped) return;
  state_->stopped = true;
  state_->io.stop();
  if (state_->thread.joinable()) state_->thread.join();
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
}

std::uint16_t HttpServer::port() const {
  boost::system::error_code ec;
  auto endpoint = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

}  // namespace fourinone::core
