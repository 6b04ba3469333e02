#include "fileops/fttp_config.hpp"

#include <filesystem>
#include <set>

#include "core/config_row.hpp"
#include "fileops/path/path_check.hpp"

namespace fourinone::fileops {

Result<FttpSettings> load_fttp_settings(const Config& config) {
  FttpSettings s;
  core::ConfigRow row(config, "FTTP");
  if (const std::string* text = row.text("SERVERS"); text != nullptr && !text->empty()) {
    std::set<ServerAddress> seen;
    for (const std::string& item : split_config_list(*text, ',')) {
      auto address = parse_server_address(item);
      if (!address.ok()) return row.bad("SERVERS", address.status().message());
      if (!seen.insert(*address).second) return row.bad("SERVERS", "server " + address->to_string() + " is listed twice");
      s.servers.push_back(*address);
    }
  }
  if (const std::string* text = row.text("HTTP"); text != nullptr && !text->empty()) {
    for (const std::string& item : split_config_list(*text, ',')) {
      auto address = parse_server_address(item);
      if (!address.ok()) return row.bad("HTTP", address.status().message());
      s.http.push_back(*address);
    }
    if (s.http.size() != s.servers.size()) {
      return row.bad("HTTP", "lists " + std::to_string(s.http.size()) + " addresses for " +
                                 std::to_string(s.servers.size()) +
                                 " SERVERS; give one HOST:PORT per server, in the order of SERVERS");
    }
  }
  if (const std::string* text = row.text("ROOTS"); text != nullptr && !text->empty()) {
    std::set<std::string> names;
    for (const std::string& item : split_config_list(*text, ',')) {
      auto eq = item.find('=');
      if (eq == std::string::npos) return row.bad("ROOTS", "root '" + item + "' is not NAME=FOLDER[:ro]");
      RootSpec root;
      root.name = item.substr(0, eq);
      while (!root.name.empty() && root.name.back() == ' ') root.name.pop_back();
      std::string folder = item.substr(eq + 1);
      while (!folder.empty() && folder.front() == ' ') folder.erase(0, 1);
      if (folder.size() >= 3 && folder.compare(folder.size() - 3, 3, ":ro") == 0) {
        root.read_only = true;
        folder.resize(folder.size() - 3);
      } else if (folder.size() >= 3 && folder.compare(folder.size() - 3, 3, ":rw") == 0) {
        folder.resize(folder.size() - 3);
      }
      if (Status ok = check_root_name(root.name); !ok.ok()) return row.bad("ROOTS", ok.message());
      if (folder.empty()) return row.bad("ROOTS", "root '" + root.name + "' names no folder");
      if (!names.insert(root.name).second) return row.bad("ROOTS", "root '" + root.name + "' is named twice");
      std::filesystem::path path(folder);
      if (path.is_relative()) path = std::filesystem::path(config.dir.empty() ? "." : config.dir) / path;
      root.folder = std::filesystem::absolute(path).lexically_normal().string();
      while (root.folder.size() > 1 && root.folder.back() == '/') root.folder.pop_back();
      if (root.folder == "/") return row.bad("ROOTS", "root '" + root.name + "' would expose the whole file system");
      s.roots.push_back(std::move(root));
    }
  }
  if (!s.servers.empty() && s.roots.empty()) {
    return row.bad("SERVERS", "an FTTP row with SERVERS needs ROOTS (NAME=FOLDER[:ro], ...): a server exposes only its roots");
  }
  if (const std::string* service = row.text("SERVICE"); service != nullptr && !service->empty()) {
    if (Status ok = check_root_name(*service); !ok.ok()) {
      return row.bad("SERVICE", "expected 1 to 64 letters, digits, '_', '-' or '.'");
    }
    s.service = *service;
  }
  auto chunk = row.number("CHUNK", s.chunk, 64u << 10, 16u << 20, true);
  if (!chunk.ok()) return chunk.status();
  s.chunk = static_cast<std::uint32_t>(*chunk);
  auto threads = row.number("THREADS", s.threads, 1, 64, false);
  if (!threads.ok()) return threads.status();
  s.threads = static_cast<std::uint32_t>(*threads);
  return s;
}

}  // namespace fourinone::fileops
