#include "park/server/park_http.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>

#include "core/auth.hpp"
#include "core/io_call.hpp"
#include "core/metrics.hpp"
#include "fourinone/contractor.hpp"
#include "park/server/job_fields.hpp"
#include "park/server/park_service.hpp"

namespace fourinone::park {
namespace {

using core::html_escape;
using core::HttpReply;
using core::HttpRequest;
using core::url_encode;

constexpr std::size_t kPageRows = 500;
constexpr std::size_t kValuePreview = 120;

const char* kStyle =
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}nav a{margin-right:1em}.up{color:#070}.down{color:#b00;font-weight:bold}"
    ".leader{font-weight:bold}progress{width:14em}pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap}"
    ".muted{color:#777}";

// Bytes as text when they are printable UTF-8-ish, else as hex.
std::string show_value(const std::string& value, std::size_t limit) {
  bool printable = std::all_of(value.begin(), value.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 || c == '\n' || c == '\t' || c == '\r';
  });
  std::string shown;
  if (printable) {
    shown = value.substr(0, limit);
  } else {
    static const char* digits = "0123456789abcdef";
    for (std::size_t i = 0; i < value.size() && shown.size() < limit; ++i) {
      auto u = static_cast<unsigned char>(value[i]);
      shown += digits[u >> 4];
      shown += digits[u & 15];
      shown += ' ';
    }
    shown = "(binary) " + shown;
  }
  if (value.size() > limit) shown += " …";
  return html_escape(shown);
}

std::string time_text(std::int64_t ms) {
  if (ms <= 0) return "";
  std::time_t seconds = ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buffer;
}

HttpReply html(std::string body) {
  HttpReply r;
  r.body = std::move(body);
  return r;
}

}  // namespace

std::optional<ServerAddress> http_address(const ParkServerOptions& options) {
  if (options.http) return options.http;
  const auto& park = options.config.park;
  if (park.http.empty()) return std::nullopt;
  auto place = std::find(park.servers.begin(), park.servers.end(), options.self);
  if (place == park.servers.end()) return std::nullopt;
  return park.http[static_cast<std::size_t>(place - park.servers.begin())];
}

ParkHttp::ParkHttp(ParkService& service, boost::asio::io_context& io)
    : service_(service),
      io_(io),
      server_(core::http_options("park server " + service.options().self.to_string(), service.options().config),
              [this](const HttpRequest& request) { return handle(request); }) {}

ParkHttp::~ParkHttp() { stop(); }

Status ParkHttp::start(const ServerAddress& address) {
  if (Status s = server_.start(address.host, address.port); !s.ok()) return s;
  spdlog::info("status page and /metrics on {}://{}:{}/", service_.options().config.park.tls.on() ? "https" : "http",
               address.host, server_.port());
  return {};
}

void ParkHttp::stop() {
  server_.stop();
  std::lock_guard lock(peers_mutex_);
  peers_.clear();
}

HttpReply ParkHttp::handle(const HttpRequest& request) {
  if (request.method == "POST" && request.path == "/node") return change(request);
  if (request.method != "GET" && request.method != "HEAD") return HttpReply::text(405, "only GET is served here\n");
  if (request.path == "/metrics") return metrics();
  if (request.path == "/") return overview(request);
  if (request.path == "/domains") return domains_page(request);
  if (request.path == "/domain") return domain_page(request);
  if (request.path == "/node") return node_page(request);
  if (request.path == "/sessions") return sessions_page(request);
  return HttpReply::text(404, "no page " + request.path + " here; try / or /metrics\n");
}

HttpReply ParkHttp::metrics() {
  auto text = core::call_on_io(io_, [this] {
    core::MetricsWriter out;
    service_.write_metrics(out);
    return out.text();
  });
  if (!text) return HttpReply::text(503, "the server is stopping or too busy to answer\n");
  HttpReply r = HttpReply::text(200, std::move(*text));
  r.content_type = std::string(core::kMetricsContentType);
  return r;
}

HttpReply ParkHttp::change(const HttpRequest& request) {
  if (!request.admin) {
    return HttpReply::text(403, request.logins ? "changes through this page are for admins (PARK/ADMINS); user '" +
                                                     request.user + "' is not one\n"
                                               : "changes through this page need logins: set PARK/USERS and ADMINS\n");
  }
  auto field = [&](const char* name) {
    auto it = request.form.find(name);
    return it == request.form.end() ? std::string() : it->second;
  };
  const std::string action = field("action");
  Op op;
  op.domain = field("domain");
  op.node = field("name");
  op.value = field("value");
  if (action == "create") {
    op.kind = OpKind::create;
  } else if (action == "update" || action == "delete") {
    op.kind = action == "update" ? OpKind::update : OpKind::remove;
    // The version the admin saw: a change made meanwhile by someone else is not overwritten.
    const std::string version = field("version");
    char* end = nullptr;
    const long long v = std::strtoll(version.c_str(), &end, 10);
    if (version.empty() || *end != '\0' || v < 1) return HttpReply::text(400, "version must be the node's version\n");
    op.version = v;
  } else {
    return HttpReply::text(400, "action must be create, update or delete\n");
  }
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  boost::asio::post(io_, [this, promise, user = request.user, op = std::move(op)]() mutable {
    service_.admin_change(user, std::move(op), [promise](const Status& s) { promise->set_value(s); });
  });
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return HttpReply::text(503, "no answer within 10 s: the change may or may not have been made; reload and look\n");
  }
  const Status result = future.get();
  if (!result.ok()) {
    const unsigned status = result.code() == Errc::not_leader         ? 409
                            : result.code() == Errc::no_permission    ? 403
                            : result.code() == Errc::not_found        ? 404
                            : result.code() == Errc::bad_version ||
                                      result.code() == Errc::exists   ? 409
                                                                      : 400;
    return HttpReply::text(status, "not changed: " + result.to_string() + "\n");
  }
  if (action == "delete") return HttpReply::redirect("/domain?name=" + url_encode(field("domain")));
  return HttpReply::redirect("/node?domain=" + url_encode(field("domain")) + "&name=" + url_encode(field("name")));
}

namespace {

std::string csrf_field(const HttpRequest& request) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + html_escape(request.csrf) + "\">";
}

std::string layout(const std::string& title, const HttpRequest& request, const std::string& body, bool refresh) {
  std::string page = "<!DOCTYPE html><html><head><meta charset=\"utf-8\">";
  if (refresh) page += "<meta http-equiv=\"refresh\" content=\"2\">";
  if (!request.csrf.empty()) page += "<meta name=\"csrf-token\" content=\"" + html_escape(request.csrf) + "\">";
  page += "<title>" + html_escape(title) + "</title><style>" + kStyle + "</style></head><body>";
  page += "<nav><a href=\"/\">Status</a><a href=\"/domains\">Domains</a><a href=\"/sessions\">Sessions</a>"
          "<a href=\"/metrics\">Metrics</a>";
  if (request.logins) {
    page += "<span class=\"muted\">logged in as <span id=\"user\">" + html_escape(request.user) + "</span>" +
            (request.admin ? " (admin)" : "") + "</span> <a href=\"/logout\">Log out</a>";
  }
  page += "</nav>" + body + "</body></html>";
  return page;
}

}  // namespace

std::vector<ParkHttp::MemberView> ParkHttp::group_view(const ParkStatus& self) {
  std::vector<MemberView> views;
  std::vector<std::pair<std::size_t, std::future<Result<ParkStatus>>>> asked;
  for (const auto& member : self.members) {
    MemberView view;
    view.address = member.address;
    if (member.address == self.server) {
      view.status = self;
    } else {
      const std::size_t index = views.size();
      asked.emplace_back(index, std::async(std::launch::async, [this, address = member.address]() -> Result<ParkStatus> {
                           std::unique_ptr<Park> park;
                           {
                             std::lock_guard lock(peers_mutex_);
                             park = std::move(peers_[address]);
                           }
                           if (!park) {
                             const auto& config = service_.options().config;
                             ParkOptions options;
                             auto parsed = parse_server_address(address);
                             if (!parsed.ok()) return parsed.status();
                             options.servers = {parsed.value()};
                             options.tls = config.park.tls;
                             options.connect_timeout = std::chrono::milliseconds(500);
                             options.call_timeout = std::chrono::milliseconds(1000);
                             if (!config.park.group_key.empty()) {
                               options.user = std::string(core::kGroupUser);
                               options.password = config.park.group_key;
                             }
                             auto connected = Park::connect(options);
                             if (!connected.ok()) return connected.status();
                             park = std::move(connected).value();
                           }
                           auto status = park->status();
                           if (status.ok()) {
                             std::lock_guard lock(peers_mutex_);
                             peers_[address] = std::move(park);  // kept for the next refresh
                           }
                           return status;
                         }));
    }
    views.push_back(std::move(view));
  }
  for (auto& [index, future] : asked) {
    auto status = future.get();
    if (status.ok()) {
      views[index].status = std::move(status).value();
    } else {
      views[index].error = status.status().to_string();
    }
  }
  return views;
}

HttpReply ParkHttp::overview(const HttpRequest& request) {
  struct Data {
    ParkStatus status;
    std::size_t watches = 0;
    std::size_t heartbeat_nodes = 0;
    std::vector<Node> jobs;
  };
  auto data = core::call_on_io(io_, [this] {
    Data d;
    d.status = service_.status_info();
    d.watches = service_.watcher_count();
    d.heartbeat_nodes = service_.store().heartbeat_node_count();
    d.jobs = service_.store().list(kJobDomain);
    return d;
  });
  if (!data) return HttpReply::text(503, "the server is stopping or too busy to answer\n");
  const ParkStatus& self = data->status;
  auto views = group_view(self);
  std::uint64_t top_commit = 0;
  for (const auto& v : views) {
    if (v.status) top_commit = std::max(top_commit, v.status->commit_index);
  }

  std::string body = "<h1>Park server " + html_escape(self.server) + "</h1>";
  body += "<p>Role here: <span id=\"self-role\">" + html_escape(self.role) + "</span> · leader: <span id=\"leader\">" +
          html_escape(self.leader.empty() ? "none known" : self.leader) + "</span> · term <span id=\"term\">" +
          std::to_string(self.term) + "</span></p>";
  body += "<h2>Group</h2><table id=\"group\"><tr><th>Server</th><th>Role</th><th>Term</th><th>Commit index</th>"
          "<th>Lag</th><th>State</th></tr>";
  for (const auto& v : views) {
    body += "<tr data-server=\"" + html_escape(v.address) + "\"><td>" + html_escape(v.address) + "</td>";
    if (v.status) {
      const auto& s = *v.status;
      body += std::string("<td class=\"role") + (s.role == "leader" ? " leader" : "") + "\">" + html_escape(s.role) +
              "</td><td>" + std::to_string(s.term) + "</td><td>" + std::to_string(s.commit_index) + "</td><td>" +
              std::to_string(top_commit - std::min(top_commit, s.commit_index)) +
              "</td><td class=\"state up\">up</td>";
    } else {
      body += "<td class=\"role\">unknown</td><td></td><td></td><td></td><td class=\"state down\" title=\"" +
              html_escape(v.error) + "\">down</td>";
    }
    body += "</tr>";
  }
  body += "</table>";

  body += "<h2>Store</h2><table id=\"store\"><tr><th>Revision</th><td>" + std::to_string(self.revision) +
          "</td></tr><tr><th>Domains</th><td><a href=\"/domains\">" + std::to_string(self.domains) +
          "</a></td></tr><tr><th>Nodes</th><td>" + std::to_string(self.nodes) + "</td></tr><tr><th>Heartbeat nodes</th><td>" +
          std::to_string(data->heartbeat_nodes) + "</td></tr><tr><th>Bytes</th><td>" + std::to_string(self.bytes) +
          "</td></tr><tr><th>Sessions</th><td><a href=\"/sessions\">" + std::to_string(self.sessions) +
          "</a></td></tr><tr><th>Watches on this server</th><td>" + std::to_string(data->watches) + "</td></tr></table>";

  body += "<h2>Jobs</h2>";
  if (data->jobs.empty()) {
    body += "<p class=\"muted\" id=\"no-jobs\">No job has published its progress (Contractor::run_job does, in " +
            std::string(kJobDomain) + ").</p>";
  } else {
    body += "<table id=\"jobs\"><tr><th>Job</th><th>Progress</th><th>Done</th><th>Failed</th><th>Workers</th>"
            "<th>Running</th><th>Updated</th></tr>";
    for (const auto& job : data->jobs) {
      auto fields = job_fields(job.value);
      auto number = [&](const char* key) { return fields.count(key) ? fields[key] : std::string("?"); };
      body += "<tr data-job=\"" + html_escape(job.name) + "\"><td>" + html_escape(job.name) + "</td><td><progress value=\"" +
              html_escape(number("done")) + "\" max=\"" + html_escape(number("total")) + "\"></progress></td><td>" +
              html_escape(number("done")) + " / " + html_escape(number("total")) + "</td><td>" +
              html_escape(number("failed")) + "</td><td>" + html_escape(number("workers")) + "</td><td>" +
              html_escape(number("running")) + "</td><td>" + time_text(job.updated_ms ? job.updated_ms : job.created_ms) +
              "</td></tr>";
    }
    body += "</table>";
  }
  body += "<p class=\"muted\">Refreshes every 2 s. Figures in Prometheus format: <a href=\"/metrics\">/metrics</a>.</p>";
  return html(layout("Park " + self.server, request, body, true));
}

HttpReply ParkHttp::domains_page(const HttpRequest& request) {
  std::string after = request.query.count("after") ? request.query.at("after") : "";
  auto domains = core::call_on_io(io_, [this, after] { return service_.store().domains(after, kPageRows + 1); });
  if (!domains) return HttpReply::text(503, "the server is stopping or too busy to answer\n");
  const bool more = domains->size() > kPageRows;
  if (more) domains->pop_back();
  std::string body = std::string("<h1>Domains</h1><p class=\"muted\">As this server has applied them") +
                     (request.admin ? "." : "; read-only (changes are for admins).") + "</p>"
                     "<table id=\"domains\"><tr><th>Domain</th><th>Nodes</th><th>Last change (revision)</th></tr>";
  for (const auto& d : *domains) {
    body += "<tr><td><a href=\"/domain?name=" + url_encode(d.name) + "\">" + html_escape(d.name) + "</a></td><td>" +
            std::to_string(d.nodes) + "</td><td>" + std::to_string(d.revision) + "</td></tr>";
  }
  body += "</table>";
  if (more) body += "<p><a href=\"/domains?after=" + url_encode(domains->back().name) + "\">Next page</a></p>";
  if (request.admin) {
    body += "<h2>New node (admin)</h2><form method=\"post\" action=\"/node\">" + csrf_field(request) +
            "<input type=\"hidden\" name=\"action\" value=\"create\"><label>Domain <input name=\"domain\"></label> "
            "<label>Name <input name=\"name\"></label> <label>Value <input name=\"value\"></label> "
            "<button type=\"submit\">Create</button></form>";
  }
  return html(layout("Domains", request, body, false));
}

HttpReply ParkHttp::domain_page(const HttpRequest& request) {
  std::string name = request.query.count("name") ? request.query.at("name") : "";
  auto nodes = core::call_on_io(io_, [this, name] { return std::make_pair(service_.store().has_domain(name), service_.store().list(name)); });
  if (!nodes) return HttpReply::text(503, "the server is stopping or too busy to answer\n");
  if (!nodes->first) return HttpReply::text(404, "domain '" + name + "' does not exist\n");
  std::string body = "<h1>Domain " + html_escape(name) + "</h1><table id=\"nodes\"><tr><th>Node</th><th>Value</th>"
                     "<th>Version</th><th>Creator</th><th>Session</th><th>Updated</th></tr>";
  std::size_t shown = 0;
  for (const auto& n : nodes->second) {
    if (++shown > kPageRows) break;
    body += "<tr><td><a href=\"/node?domain=" + url_encode(name) + "&amp;name=" + url_encode(n.name) + "\">" +
            html_escape(n.name) + "</a></td><td>" + show_value(n.value, kValuePreview) + "</td><td>" +
            std::to_string(n.version) + "</td><td>" + html_escape(n.creator) + "</td><td>" +
            (n.session ? std::to_string(n.session) : std::string()) + "</td><td>" +
            time_text(n.updated_ms ? n.updated_ms : n.created_ms) + "</td></tr>";
  }
  body += "</table>";
  if (request.admin) {
    body += "<h2>New node (admin)</h2><form method=\"post\" action=\"/node\">" + csrf_field(request) +
            "<input type=\"hidden\" name=\"action\" value=\"create\"><input type=\"hidden\" name=\"domain\" value=\"" +
            html_escape(name) + "\"><label>Name <input name=\"name\" id=\"new-name\"></label> <label>Value "
            "<input name=\"value\" id=\"new-node-value\"></label> <button type=\"submit\" id=\"create\">Create</button></form>";
  }
  if (nodes->second.size() > kPageRows) {
    body += "<p class=\"muted\">The first " + std::to_string(kPageRows) + " of " +
            std::to_string(nodes->second.size()) + " nodes (fourinone ctl ls shows all).</p>";
  }
  return html(layout("Domain " + name, request, body, false));
}

HttpReply ParkHttp::node_page(const HttpRequest& request) {
  std::string domain = request.query.count("domain") ? request.query.at("domain") : "";
  std::string name = request.query.count("name") ? request.query.at("name") : "";
  auto node = core::call_on_io(io_, [this, domain, name]() -> std::optional<Node> {
    if (const Node* n = service_.store().find(domain, name)) return *n;
    return std::nullopt;
  });
  if (!node) return HttpReply::text(503, "the server is stopping or too busy to answer\n");
  if (!*node) return HttpReply::text(404, "node '" + domain + "/" + name + "' does not exist\n");
  const Node& n = **node;
  std::string body = "<h1><a href=\"/domain?name=" + url_encode(domain) + "\">" + html_escape(domain) + "</a> / " +
                     html_escape(name) + "</h1><table id=\"node\">";
  auto row = [&](const char* key, const std::string& value) {
    body += std::string("<tr><th>") + key + "</th><td>" + value + "</td></tr>";
  };
  row("Version", std::to_string(n.version));
  row("Created (revision)", std::to_string(n.create_revision));
  row("Changed (revision)", std::to_string(n.mod_revision));
  row("Creator", html_escape(n.creator) + " from " + html_escape(n.create_host));
  row("Created", time_text(n.created_ms));
  row("Updated", time_text(n.updated_ms) + (n.update_host.empty() ? "" : " from " + html_escape(n.update_host)));
  row("Heartbeat session", n.session ? std::to_string(n.session) : "none");
  row("Expires", n.expires_ms ? time_text(n.expires_ms) : "never");
  row("Size", std::to_string(n.value.size()) + " bytes");
  body += "</table><h2>Value</h2><pre id=\"value\">" + show_value(n.value, 1 << 20) + "</pre>";
  if (request.admin) {
    const std::string hidden = csrf_field(request) + "<input type=\"hidden\" name=\"domain\" value=\"" +
                               html_escape(domain) + "\"><input type=\"hidden\" name=\"name\" value=\"" +
                               html_escape(name) + "\"><input type=\"hidden\" name=\"version\" value=\"" +
                               std::to_string(n.version) + "\">";
    body += "<h2>Change (admin)</h2><p class=\"muted\">Through the leader's log, as user " + html_escape(request.user) +
            "; refused if the node changed since this page was loaded.</p><form method=\"post\" action=\"/node\">" +
            hidden + "<input type=\"hidden\" name=\"action\" value=\"update\"><textarea name=\"value\" id=\"new-value\" "
            "rows=\"6\" cols=\"80\">" + html_escape(n.value) + "</textarea><br><button type=\"submit\" id=\"save\">Save</button>"
            "</form><form method=\"post\" action=\"/node\">" + hidden +
            "<input type=\"hidden\" name=\"action\" value=\"delete\"><button type=\"submit\" id=\"delete\">Delete "
            "this node</button></form>";
  }
  return html(layout(domain + "/" + name, request, body, false));
}

HttpReply ParkHttp::sessions_page(const HttpRequest& request) {
  auto sessions = core::call_on_io(io_, [this] {
    std::vector<SessionRecord> out;
    for (const auto& [id, record] : service_.store().sessions()) {
      if (out.size() >= kPageRows) break;
      out.push_back(record);
    }
    return std::make_pair(out, service_.store().sessions().size());
  });
  if (!sessions) return HttpReply::text(503, "the server is stopping or too busy to answer\n");
  std::string body = "<h1>Sessions</h1><p>" + std::to_string(sessions->second) +
                     " open.</p><table id=\"sessions\"><tr><th>Id</th><th>Owner</th><th>Timeout</th><th>Opened</th></tr>";
  for (const auto& s : sessions->first) {
    body += "<tr><td>" + std::to_string(s.id) + "</td><td>" + html_escape(s.owner) + "</td><td>" +
            std::to_string(s.timeout_ms) + " ms</td><td>" + time_text(s.opened_ms) + "</td></tr>";
  }
  body += "</table>";
  return html(layout("Sessions", request, body, false));
}

}  // namespace fourinone::park
