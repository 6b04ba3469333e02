// FttpUrl: parsing and printing fttp://HOST[:PORT]/ROOT/PATH (include/fourinone/fileops.hpp).
// Ours on purpose: Boost.URL needs Boost 1.81 (Debian 12 has 1.74); uriparser would leave all fttp rules here.
#include <cctype>

#include "fileops/path/path_check.hpp"
#include "fourinone/fileops.hpp"

namespace fourinone {
namespace {

Status bad_url(std::string_view text, const std::string& why) {
  return Status(Errc::bad_request, "bad fttp URL '" + std::string(text.substr(0, 200)) + "': " + why);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string escape(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '%' || c == '#' || c == '?') {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Result<FttpUrl> FttpUrl::parse(std::string_view text) {
  constexpr std::string_view kScheme = "fttp://";
  if (text.size() < kScheme.size()) return bad_url(text, "expected fttp://HOST:PORT/ROOT/PATH");
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != kScheme[i]) {
      return bad_url(text, "the scheme must be fttp:// (fttp://HOST:PORT/ROOT/PATH)");
    }
  }
  std::string_view rest = text.substr(kScheme.size());
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  FttpUrl url;
  if (authority.empty()) return bad_url(text, "no host");
  std::size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) {
    url.host = std::string(authority);
  } else {
    auto address = parse_server_address(authority);
    if (!address.ok()) return bad_url(text, address.status().message());
    url.host = address->host;
    url.port = address->port;
  }
  std::string decoded;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '#' || path[i] == '?') return bad_url(text, "'#' and '?' must be written %23 and %3F");
    if (path[i] != '%') {
      decoded += path[i];
      continue;
    }
    int hi = i + 2 < path.size() ? hex_value(path[i + 1]) : -1;
    int lo = i + 2 < path.size() ? hex_value(path[i + 2]) : -1;
    if (hi < 0 || lo < 0) return bad_url(text, "'%' must be followed by two hex digits");
    decoded += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  while (!decoded.empty() && decoded.front() == '/') decoded.erase(0, 1);
  std::size_t root_end = decoded.find('/');
  url.root = decoded.substr(0, root_end);
  if (!url.root.empty()) {
    if (Status s = fileops::check_root_name(url.root); !s.ok()) return bad_url(text, s.message());
  }
  auto rel = fileops::normalize_relative_path(root_end == std::string::npos ? "" : decoded.substr(root_end + 1));
  if (!rel.ok()) return Status(rel.status().code(), "fttp URL '" + std::string(text.substr(0, 200)) + "': " + rel.status().message());
  url.path = rel.value();
  return url;
}

std::string FttpUrl::to_string() const {
  std::string out = "fttp://" + host + ":" + std::to_string(port);
  if (!root.empty()) out += "/" + escape(root);
  if (!path.empty()) out += "/" + escape(path);
  return out;
}

FttpUrl FttpUrl::child(std::string_view name) const {
  FttpUrl out = *this;
  if (out.root.empty()) {
    out.root = std::string(name);
  } else {
    out.path = out.path.empty() ? std::string(name) : out.path + "/" + std::string(name);
  }
  return out;
}

}  // namespace fourinone
