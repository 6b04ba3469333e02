#include "core/role_http.hpp"

#include "core/io_call.hpp"


namespace fourinone::core {
RoleHttp::RoleHttp(std::string title, const Config& config, boost::asio::io_context& io, Sources sources)
    : title_(std::move(title)),
      io_(io),
      sources_(std::move(sources)),
      server_(http_options(title_, config), [this](const HttpRequest& r) { return handle(r); }) {}

HttpReply RoleHttp::handle(const HttpRequest& request) {
  if (request.method != "GET" && request.method != "HEAD") return HttpReply::text(405, "only GET is served here\n");
  if (request.path == "/metrics") {
    auto text = call_on_io(io_, [this] {
      MetricsWriter out;
      sources_.metrics(out);
      return out.text();
    });
    if (!text) return HttpReply::text(503, "the server is stopping or too busy to answer\n");
    HttpReply r = HttpReply::text(200, std::move(*text));
    r.content_type = std::string(kMetricsContentType);
    return r;
  }
  if (request.path != "/") return HttpReply::text(404, "no page " + request.path + " here; try / or /metrics\n");
  auto rows = call_on_io(io_, [this] { return sources_.rows(); });
  if (!rows) return HttpReply::text(503, "the server is stopping or too busy to answer\n");
  std::string body = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"2\">"
                     "<title>" + html_escape(title_) +
                     "</title><style>body{font-family:system-ui,sans-serif;margin:1.5em}th,td{border:1px solid #ccc;"
                     "padding:.25em .6em;text-align:left}table{border-collapse:collapse}</style></head><body><nav>"
                     "<a href=\"/metrics\">Metrics</a>" +
                     std::string(request.logins ? " <a href=\"/logout\">Log out</a>" : "") + "</nav><h1>" +
                     html_escape(title_) + "</h1><table id=\"status\">";
  for (const auto& [name, value] : *rows) {
    body += "<tr><th>" + html_escape(name) + "</th><td data-field=\"" + html_escape(name) + "\">" + html_escape(value) +
            "</td></tr>";
  }
  body += "</table><p>Refreshes every 2 s.</p></body></html>";
  HttpReply r;
  r.body = std::move(body);
  return r;
}

}  // namespace fourinone::core
