// config.xml: reading and checking (include/fourinone/config.hpp; reference in core/CONFIG.md).
//
// DESIGN: parse_xml() builds the tree; ConfigReader walks it once. Every row is copied into
// Config::rows as read, so later parts can read their own rows; rows PARK and LOG are then
// checked element by element into ParkConfig and LogConfig. The first bad value stops the
// load with a config_error naming the file, line and element; unknown rows and unknown
// elements only add a ConfigWarning, because a newer file should still start an older binary.
// Everything here is a pure function of the text, so it is thread-safe.
#include "fourinone/config.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <utility>

#include "core/auth.hpp"
#include "core/tls.hpp"
#include "core/xml.hpp"

namespace fourinone {
namespace {

using core::XmlElement;

// Rows of the original's config.xml. Only PARK and LOG are checked here; the parts that own
// the others read them from Config::rows.
constexpr std::string_view kKnownRows[] = {"PARK",   "LOG",  "CACHE",       "CACHEGROUP", "CACHEFACADE",
                                           "WORKER", "CTOR", "COMPUTEMODE", "FTTP",       "WEBAPP",
                                           "MQ"};
// The one row that may appear more than once (one per placement generation of the cache).
constexpr std::string_view kRepeatableRow = "CACHEGROUP";

// Bounds, with the reason for each where it is not obvious.
constexpr std::int64_t kMinSessionTimeoutMs = 200;      // below this a GC pause or a busy disk expires sessions
constexpr std::int64_t kMaxSessionTimeoutMs = 600'000;  // the server clamps client requests to the same range
constexpr std::int64_t kMaxMaxDelayMs = 3'600'000;
constexpr double kMaxHours = 1'000'000;  // keeps hours * 3.6e6 ms far inside int64
constexpr std::uint64_t kMaxMaxValue = 1ull << 30;
constexpr std::uint64_t kMaxMaxName = 4096;
// Longer values are cut in messages so one bad USERS line does not flood the terminal.
constexpr std::size_t kMaxQuotedText = 200;
// config.xml is a few kilobytes; refusing huge files keeps a wrong path from eating memory.
constexpr std::size_t kMaxConfigFileSize = 16u << 20;

bool is_known_row(std::string_view name) {
  return std::find(std::begin(kKnownRows), std::end(kKnownRows), name) != std::end(kKnownRows);
}

std::string quote_text(std::string_view text) {
  if (text.size() <= kMaxQuotedText) return "'" + std::string(text) + "'";
  return "'" + std::string(text.substr(0, kMaxQuotedText)) + "...'";
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t at = text.find(separator, start);
    parts.push_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// Digits only: no sign, no spaces, no "0x".
std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_double(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// "1048576", "512K", "16M", "1G" (binary multiples, case-insensitive).
std::optional<std::uint64_t> parse_bytes(std::string_view text) {
  constexpr std::string_view kSuffixes = "KMG";  // 1024, 1024^2, 1024^3
  std::uint64_t multiplier = 1;
  std::size_t suffix = text.empty() ? std::string_view::npos : kSuffixes.find(upper(text.substr(text.size() - 1))[0]);
  if (suffix != std::string_view::npos) {
    multiplier = 1ull << (10 * (suffix + 1));
    text.remove_suffix(1);
  }
  auto value = parse_unsigned(text);
  if (!value || *value > std::numeric_limits<std::uint64_t>::max() / multiplier) return std::nullopt;
  return *value * multiplier;
}

// Strict, unlike Java's Boolean.parseBoolean (anything but "true" is false there): a typo
// such as "ture" should stop the start, not silently turn a feature off.
std::optional<bool> parse_bool(std::string_view text) {
  std::string u = upper(text);
  if (u == "TRUE") return true;
  if (u == "FALSE") return false;
  return std::nullopt;
}

// LEVELNAME: spdlog's names plus java.util.logging's, which the original used.
std::optional<std::string> parse_log_level(std::string_view text) {
  static const std::pair<std::string_view, std::string_view> kLevels[] = {
      {"TRACE", "trace"}, {"DEBUG", "debug"},       {"INFO", "info"},    {"WARN", "warn"},    {"WARNING", "warn"},
      {"ERROR", "error"}, {"CRITICAL", "critical"}, {"OFF", "off"},      {"SEVERE", "error"}, {"CONFIG", "debug"},
      {"FINE", "debug"},  {"FINER", "trace"},       {"FINEST", "trace"}, {"ALL", "trace"},
  };
  std::string u = upper(text);
  for (const auto& [name, level] : kLevels) {
    if (u == name) return std::string(level);
  }
  return std::nullopt;
}

std::string resolve_path(const std::string& dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || dir.empty()) return path;
  return dir + "/" + path;
}

class ConfigReader {
 public:
  ConfigReader(const std::string& file_name, Config& config) : file_(file_name), config_(config) {}

  Status read(const XmlElement& root) {
    if (root.name != "PROPSTABLE") {
      return Status(Errc::config_error,
                    where(root.line) + "the root element must be <PROPSTABLE>, got <" + root.name + ">");
    }
    if (!root.text.empty()) warn(root.line, "text " + quote_text(root.text) + " directly inside <PROPSTABLE> ignored");
    std::map<std::string, int> first_line;  // row name -> line of its first occurrence
    const XmlElement* park = nullptr;
    const XmlElement* log = nullptr;
    int cache_groups = 0;
    for (const auto& row : root.children) {
      if (row.name != "PROPSROW") {
        warn(row.line,
             "unknown element <" + row.name + "> in <PROPSTABLE> ignored (rows are <PROPSROW DESC=\"NAME\">)");
        continue;
      }
      const std::string* desc = row.find_attribute("DESC");
      if (desc == nullptr || desc->empty()) {
        return Status(Errc::config_error,
                      where(row.line) + "<PROPSROW> needs a DESC attribute naming the row, e.g. DESC=\"PARK\"");
      }
      const std::string& name = *desc;
      for (const auto& [attribute, value] : row.attributes) {
        if (attribute != "DESC") warn(row.line, "attribute " + attribute + " of row " + name + " ignored");
      }
      auto [it, first] = first_line.emplace(name, row.line);
      std::string key = name;
      if (name == kRepeatableRow) {
        if (++cache_groups > 1) key += "#" + std::to_string(cache_groups);
      } else if (!first) {
        return row_error(row, name, "appears twice (first on line " + std::to_string(it->second) + ")");
      }
      if (!is_known_row(name)) warn(row.line, "unknown row " + name + " (kept, but nothing reads it)");
      if (Status s = copy_row(row, name, config_.rows[key]); !s.ok()) return s;
      if (name == "PARK") park = &row;
      if (name == "LOG") log = &row;
    }
    if (park == nullptr) {
      return row_error(root, "PARK", "is missing; add <PROPSROW DESC=\"PARK\"> with at least <SERVERS>");
    }
    if (Status s = read_park(*park); !s.ok()) return s;
    if (log != nullptr) return read_log(*log);
    return Status();
  }

 private:
  std::string where(int line) const { return file_ + ":" + std::to_string(line) + ": "; }

  void warn(int line, std::string message) { config_.warnings.push_back({file_, line, std::move(message)}); }

  Status row_error(const XmlElement& at, std::string_view row, const std::string& why) const {
    return Status(Errc::config_error, where(at.line) + "row " + std::string(row) + ": " + why);
  }

  Status element_error(const XmlElement& element, std::string_view row, const std::string& why) const {
    return Status(Errc::config_error, where(element.line) + element.name + " in row " + std::string(row) + ": " + why +
                                          ", got " + quote_text(element.text));
  }

  bool checked_row(std::string_view row) const { return row == "PARK" || row == "LOG"; }

  // Copies the row's elements into `out` (ELEMENT -> text, ELEMENT@DESC -> desc).
  Status copy_row(const XmlElement& row, const std::string& name, std::map<std::string, std::string>& out) {
    if (!row.text.empty()) warn(row.line, "text " + quote_text(row.text) + " directly inside row " + name + " ignored");
    std::map<std::string, int> first_line;
    for (const auto& element : row.children) {
      auto [it, first] = first_line.emplace(element.name, element.line);
      if (!first) {
        return element_error(element, name,
                             "appears twice in the row (first on line " + std::to_string(it->second) + ")");
      }
      if (!element.children.empty()) {
        if (checked_row(name)) {
          return Status(Errc::config_error, where(element.line) + element.name + " in row " + name +
                                                ": must hold plain text, not <" + element.children.front().name + ">");
        }
        warn(element.children.front().line,
             "element <" + element.children.front().name + "> inside " + element.name + " in row " + name + " ignored");
      }
      out[element.name] = element.text;
      out[element.name + "@LINE"] = std::to_string(element.line);  // so the part reading it can name the line
      for (const auto& [attribute, value] : element.attributes) {
        if (attribute == "DESC") {
          out[element.name + "@DESC"] = value;
        } else if (checked_row(name)) {
          warn(element.line, "attribute " + attribute + " of " + element.name + " in row " + name + " ignored");
        }
      }
    }
    return Status();
  }

  // How to read one PARK/LOG element: returns why its value is refused, or "" when it is fine.
  using Handler = std::function<std::string(const XmlElement&)>;

  Status read_elements(const XmlElement& row, std::string_view row_name,
                       const std::map<std::string_view, Handler>& handlers) {
    for (const auto& element : row.children) {
      auto it = handlers.find(element.name);
      if (it == handlers.end()) {
        warn(element.line, "unknown element " + element.name + " in row " + std::string(row_name) + " ignored");
        continue;
      }
      if (std::string why = it->second(element); !why.empty()) return element_error(element, row_name, why);
    }
    return Status();
  }

  Status read_park(const XmlElement& row) {
    ParkConfig& park = config_.park;
    const XmlElement* servers = nullptr;
    const XmlElement* heartbeat = nullptr;
    const XmlElement* session_timeout = nullptr;
    const XmlElement* group_key = nullptr;
    const XmlElement* group_key_file = nullptr;
    const XmlElement* admins = nullptr;
    const XmlElement* http = nullptr;
    TlsElements tls;
    auto milliseconds = [](std::chrono::milliseconds& out, std::int64_t min, std::int64_t max) {
      return [&out, min, max](const XmlElement& e) -> std::string {
        auto v = parse_unsigned(e.text);
        if (!v || *v < static_cast<std::uint64_t>(min) || *v > static_cast<std::uint64_t>(max)) {
          return "must be a whole number of milliseconds from " + std::to_string(min) + " to " + std::to_string(max);
        }
        out = std::chrono::milliseconds(static_cast<std::int64_t>(*v));
        return "";
      };
    };
    auto boolean = [](bool* out) {
      return [out](const XmlElement& e) -> std::string {
        auto v = parse_bool(e.text);
        if (!v) return "must be true or false";
        if (out != nullptr) *out = *v;
        return "";
      };
    };
    auto pem_path = [&](std::string& out, const XmlElement*& element) {
      return [&](const XmlElement& e) -> std::string {
        element = &e;
        if (e.text.empty()) return "must name a PEM file (absolute, or relative to the config file)";
        out = resolve_path(config_.dir, e.text);
        return "";
      };
    };
    auto session_ms = milliseconds(park.session_timeout, kMinSessionTimeoutMs, kMaxSessionTimeoutMs);
    auto heartbeat_ms = milliseconds(park.heartbeat, 1, kMaxSessionTimeoutMs);
    std::map<std::string_view, Handler> handlers{
        {"SERVERS",
         [&](const XmlElement& e) {
           servers = &e;
           return read_servers(e.text);
         }},
        {"SERVICE", [](const XmlElement&) { return std::string(); }},  // the original's RMI name
        {"DATADIR",
         [&](const XmlElement& e) -> std::string {
           if (e.text.empty()) return "must name a folder (absolute, or relative to the config file)";
           park.data_dir = e.text;
           return "";
         }},
        {"SESSIONTIMEOUT",
         [&](const XmlElement& e) {
           session_timeout = &e;
           return session_ms(e);
         }},
        {"HEARTBEAT",
         [&](const XmlElement& e) {
           heartbeat = &e;
           return heartbeat_ms(e);
         }},
        {"MAXDELAY", milliseconds(park.max_delay, 0, kMaxMaxDelayMs)},
        {"EXPIRATION",
         [&](const XmlElement& e) -> std::string {
           auto v = parse_double(e.text);
           if (!v || *v <= 0 || *v > kMaxHours) return "must be a number of hours above 0 (24 = one day)";
           park.expiration_hours = *v;
           return "";
         }},
        {"CLEARPERIOD",
         [&](const XmlElement& e) -> std::string {
           auto v = parse_double(e.text);
           if (!v || *v > kMaxHours) return "must be a number of hours (0 or less turns the clear task off)";
           park.clear_period_hours = *v;
           return "";
         }},
        {"SAFEMEMORYPER",
         [&](const XmlElement& e) -> std::string {
           auto v = parse_double(e.text);
           if (!v || *v <= 0 || *v > 1) return "must be a fraction above 0 and at most 1, such as 0.95";
           park.safe_memory_per = *v;
           return "";
         }},
        {"MAXMEMORY",
         [&](const XmlElement& e) -> std::string {
           auto v = parse_bytes(e.text);
           if (!v || *v < 1) return "must be a byte count of at least 1, such as 1073741824, 512M or 1G";
           park.max_memory = *v;
           return "";
         }},
        {"MAXVALUE",
         [&](const XmlElement& e) -> std::string {
           auto v = parse_bytes(e.text);
           if (!v || *v < 1 || *v > kMaxMaxValue) return "must be a byte count from 1 to 1G, such as 16M";
           park.max_value = *v;
           return "";
         }},
        {"SNAPSHOTENTRIES",
         [&](const XmlElement& e) -> std::string {
           auto v = parse_unsigned(e.text);
           if (!v || *v < 10 || *v > 100'000'000) return "must be a number of log entries from 10 to 100000000";
           park.snapshot_entries = *v;
           return "";
         }},
        {"WALSEGMENT",
         [&](const XmlElement& e) -> std::string {
           auto v = parse_bytes(e.text);
           if (!v || *v < (64u << 10) || *v > (1ull << 30)) return "must be a byte count from 64K to 1G, such as 64M";
           park.wal_segment = *v;
           return "";
         }},
        {"MAXNAME",
         [&](const XmlElement& e) -> std::string {
           auto v = parse_unsigned(e.text);
           if (!v || *v < 1 || *v > kMaxMaxName) return "must be a number of bytes from 1 to 4096";
           park.max_name = static_cast<std::uint32_t>(*v);
           return "";
         }},
        {"USERS", [&](const XmlElement& e) { return read_users(e.text); }},
        {"ADMINS",
         [&](const XmlElement& e) -> std::string {
           admins = &e;
           park.admins = split_config_list(e.text, ',');
           std::erase(park.admins, std::string());
           return "";
         }},
        {"ALWAYSTRYLEADER", boolean(&park.always_try_leader)},
        {"LEASEREADS", boolean(&park.lease_reads)},
        {"GROUPKEY",
         [&](const XmlElement& e) -> std::string {
           group_key = &e;  // checked after the row: the error must not show the text
           park.group_key = e.text;
           return "";
         }},
        {"GROUPKEYFILE",
         [&](const XmlElement& e) -> std::string {
           group_key_file = &e;
           return read_group_key_file(e.text);
         }},
        {"STARTWEBAPP", boolean(nullptr)},  // the original's web admin switch; PARK/HTTP turns ours on
        {"HTTP",
         [&](const XmlElement& e) -> std::string {
           http = &e;
           return read_addresses(e.text, park.http);
         }},
        {"TLSCA", pem_path(park.tls.ca, tls.ca)},
        {"TLSCERT", pem_path(park.tls.cert, tls.cert)},
        {"TLSKEY", pem_path(park.tls.key, tls.key)},
        {"TLSCLIENTCERTS",
         [&](const XmlElement& e) {
           tls.client_certs = &e;
           return boolean(&park.tls.client_certs)(e);
         }},
    };
    if (Status s = read_elements(row, "PARK", handlers); !s.ok()) return s;
    if (servers == nullptr) {
      return row_error(row, "PARK", "SERVERS is required, e.g. <SERVERS>localhost:1888</SERVERS>");
    }
    if (http != nullptr && park.http.size() != park.servers.size()) {
      return element_error(*http, "PARK",
                           "lists " + std::to_string(park.http.size()) + " addresses for " +
                               std::to_string(park.servers.size()) +
                               " SERVERS; give one HOST:PORT per server, in the order of SERVERS");
    }
    if (group_key != nullptr && group_key->text.size() < core::kMinGroupKeySize) {
      return Status(Errc::config_error,
                    where(group_key->line) +
                        "GROUPKEY in row PARK: must be a secret of at least 16 characters that every server of the "
                        "group shares (e.g. the output of: head -c 24 /dev/urandom | base64); the text is not shown");
    }
    if (group_key != nullptr && group_key_file != nullptr) {
      return element_error(*group_key_file, "PARK", "and GROUPKEY are both given; keep one");
    }
    if (admins != nullptr) {
      if (park.users.empty()) {
        return element_error(*admins, "PARK", "names admins but USERS is empty: without logins everyone may do anything");
      }
      for (const auto& name : park.admins) {
        if (std::none_of(park.users.begin(), park.users.end(), [&](const UserEntry& u) { return u.name == name; })) {
          return element_error(*admins, "PARK", "names '" + name + "', who is not in USERS");
        }
      }
    }
    // With logins, a user must not be able to speak for a server (vote, or send entries as a
    // leader): the servers of a group prove a secret of their own to each other.
    if (!park.users.empty() && park.servers.size() > 1 && park.group_key.empty()) {
      return row_error(row, "PARK",
                       "has USERS for a group of " + std::to_string(park.servers.size()) +
                           " servers but no GROUPKEY or GROUPKEYFILE: the servers must prove to each other that "
                           "they belong to the group, or any user could speak for one");
    }
    if (Status s = check_tls(tls); !s.ok()) return s;
    // A client that beats only once per session timeout loses its session to any delay.
    if (park.heartbeat >= park.session_timeout) {
      std::string timeout = std::to_string(park.session_timeout.count()) + " ms";
      if (heartbeat != nullptr) {
        return element_error(
            *heartbeat, "PARK",
            "must be smaller than SESSIONTIMEOUT (" + timeout + (session_timeout ? ")" : ", the default)"));
      }
      return element_error(
          *session_timeout, "PARK",
          "must be larger than HEARTBEAT (" + std::to_string(park.heartbeat.count()) + " ms, the default)");
    }
    return Status();
  }

  struct TlsElements {
    const XmlElement* ca = nullptr;
    const XmlElement* cert = nullptr;
    const XmlElement* key = nullptr;
    const XmlElement* client_certs = nullptr;
  };

  // TLSCA turns TLS on; TLSCERT and TLSKEY come as a pair. The files are read now, so that a
  // wrong path, a key of another certificate or a certificate of another CA stops the start
  // here rather than failing every connection later.
  Status check_tls(const TlsElements& given) {
    const TlsConfig& tls = config_.park.tls;
    if (!tls.on()) {
      for (const XmlElement* e : {given.cert, given.key}) {
        if (e != nullptr) return element_error(*e, "PARK", "needs TLSCA, the CA of every certificate of the group");
      }
      if (tls.client_certs) {
        return element_error(*given.client_certs, "PARK", "needs TLSCA to check client certificates against");
      }
      return Status();
    }
    if (given.cert != nullptr && given.key == nullptr) {
      return element_error(*given.cert, "PARK", "needs TLSKEY, the private key of this certificate");
    }
    if (given.key != nullptr && given.cert == nullptr) {
      return element_error(*given.key, "PARK", "needs TLSCERT, the certificate of this key");
    }
    auto problem = core::check_tls_files(tls);
    if (!problem) return Status();
    const XmlElement* at = problem->element == "TLSCA"     ? given.ca
                           : problem->element == "TLSCERT" ? given.cert
                                                           : given.key;
    return element_error(*at, "PARK", problem->why);
  }

  std::string read_servers(const std::string& text) { return read_addresses(text, config_.park.servers); }

  std::string read_addresses(const std::string& text, std::vector<ServerAddress>& servers) {
    servers.clear();
    if (text.empty()) return "must list at least one HOST:PORT";
    for (auto part : split(text, ',')) {
      std::string_view entry = trim(part);
      if (entry.empty()) return "has an empty entry; expected HOST:PORT,HOST:PORT,...";
      auto address = parse_server_address(entry);
      if (!address.ok()) return address.status().message() + " (port 1..65535)";
      if (std::find(servers.begin(), servers.end(), *address) != servers.end()) {
        return address->to_string() + " is listed twice";
      }
      servers.push_back(*address);
    }
    return "";
  }

  // The first line of the file, without surrounding blanks; a relative path is resolved against
  // the config file's folder.
  std::string read_group_key_file(const std::string& text) {
    if (text.empty()) return "must name a file holding the group key";
    const std::string path = resolve_path(config_.dir, text);
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return "cannot read " + path + ": " + std::strerror(errno);
    std::string line;
    for (int c; (c = std::fgetc(f)) != EOF && c != '\n';) line.push_back(static_cast<char>(c));
    std::fclose(f);
    std::string_view key = trim(line);
    if (key.size() < core::kMinGroupKeySize) {
      return path + " must hold a secret of at least 16 characters on its first line";
    }
    config_.park.group_key = std::string(key);
    return "";
  }

  std::string read_users(const std::string& text) {
    auto& users = config_.park.users;
    users.clear();
    for (auto part : split(text, ',')) {
      std::string_view entry = trim(part);
      if (entry.empty()) continue;  // "" (no users) or a trailing comma
      auto user = core::parse_user_entry(entry);
      if (!user.ok()) return user.status().message();
      for (const auto& other : users) {
        if (other.name == user->name) return "user " + user->name + " is listed twice";
      }
      users.push_back(std::move(*user));
    }
    return "";
  }

  Status read_log(const XmlElement& row) {
    LogConfig& log = config_.log;
    bool has_level = false;
    bool fine = false;
    std::map<std::string_view, Handler> handlers{
        {"LEVELNAME",
         [&](const XmlElement& e) -> std::string {
           auto level = parse_log_level(e.text);
           if (!level) {
             return "must be trace, debug, info, warn, error, critical or off (or SEVERE, WARNING, INFO, CONFIG, "
                    "FINE, FINER, FINEST, ALL)";
           }
           // The original only reads the variant with DESC="LOGLEVEL"; we read any, but say so.
           const std::string* desc = e.find_attribute("DESC");
           if (desc != nullptr && *desc != "LOGLEVEL") {
             warn(e.line,
                  "LEVELNAME in row LOG has DESC=\"" + *desc + "\"; used anyway (the original expects LOGLEVEL)");
           }
           log.level = *level;
           has_level = true;
           return "";
         }},
        {"INFO",
         [&](const XmlElement& e) -> std::string {
           if (!parse_bool(e.text)) return "must be true or false";
           return "";
         }},
        {"FINE",
         [&](const XmlElement& e) -> std::string {
           auto v = parse_bool(e.text);
           if (!v) return "must be true or false";
           fine = *v;
           return "";
         }},
        {"FILE",
         [&](const XmlElement& e) -> std::string {
           log.file = resolve_path(config_.dir, e.text);
           return "";
         }},
    };
    if (Status s = read_elements(row, "LOG", handlers); !s.ok()) return s;
    // The original's FINE switch turned on fine-grained output; honour it unless a level is set.
    if (fine && !has_level) log.level = "debug";
    return Status();
  }

  const std::string& file_;
  Config& config_;
};

}  // namespace

Result<ServerAddress> parse_server_address(std::string_view text) {
  auto bad = [text] {
    return Status(Errc::bad_request, "bad server address '" + std::string(text) + "': expected HOST:PORT");
  };
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad();
  std::string_view host = text.substr(0, colon);
  // Host names and IPv4 addresses; a second ':' (an unbracketed IPv6 address) is refused.
  bool host_ok = std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_';
  });
  auto port = parse_unsigned(text.substr(colon + 1));
  if (!host_ok || !port || *port < 1 || *port > 65535) return bad();
  return ServerAddress{std::string(host), static_cast<std::uint16_t>(*port)};
}

std::string Config::resolved_data_dir() const { return resolve_path(dir, park.data_dir); }

std::optional<bool> parse_config_bool(std::string_view text) { return parse_bool(text); }
std::optional<std::uint64_t> parse_config_bytes(std::string_view text) { return parse_bytes(text); }

const std::string* config_element(const Config& config, const std::string& row, const std::string& name) {
  auto r = config.rows.find(row);
  if (r == config.rows.end()) return nullptr;
  auto it = r->second.find(name);
  return it == r->second.end() ? nullptr : &it->second;
}

Status config_element_error(const Config& config, const std::string& row, const std::string& name,
                            const std::string& why) {
  const std::string* line = config_element(config, row, name + "@LINE");
  const std::string* text = config_element(config, row, name);
  const std::string file = config.file.empty() ? std::string("(config text)") : config.file;
  return Status(Errc::config_error, file + ":" + (line ? *line : std::string("?")) + ": " + name + " in row " + row +
                                        ": " + why + ", got '" + (text ? *text : std::string()) + "'");
}

std::vector<std::string> split_config_list(std::string_view text, char separator) {
  std::vector<std::string> parts;
  for (auto part : split(text, separator)) parts.emplace_back(trim(part));
  return parts;
}

Result<Config> parse_config(std::string_view text, const std::string& file_name, const std::string& dir) {
  auto root = core::parse_xml(text, file_name);
  if (!root.ok()) return root.status();
  Config config;
  config.dir = dir;
  if (Status s = ConfigReader(file_name, config).read(*root); !s.ok()) return s;
  return config;
}

Result<Config> load_config(const std::string& path) {
  auto cannot_read = [&path](const std::string& why) {
    return Status(Errc::config_error, path + ": cannot read: " + why);
  };
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return cannot_read(std::strerror(errno));
  std::string text;
  char buffer[8192];
  for (;;) {
    std::size_t n = std::fread(buffer, 1, sizeof buffer, f);
    text.append(buffer, n);
    if (text.size() > kMaxConfigFileSize) {
      std::fclose(f);
      return cannot_read("larger than " + std::to_string(kMaxConfigFileSize >> 20) + " MiB; is this config.xml?");
    }
    if (n < sizeof buffer) break;
  }
  int read_errno = 0;
  if (std::ferror(f)) read_errno = errno != 0 ? errno : EIO;
  std::fclose(f);
  if (read_errno != 0) return cannot_read(std::strerror(read_errno));

  // Relative paths in the file are relative to the file's folder, made absolute now so a
  // later change of working directory cannot move the data.
  std::error_code ec;
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) folder = ".";
  std::filesystem::path absolute = std::filesystem::absolute(folder, ec);
  std::string dir = ec ? folder.string() : absolute.lexically_normal().string();
  if (dir.size() > 1 && dir.back() == '/') dir.pop_back();

  auto config = parse_config(text, path, dir);
  if (config.ok()) config->file = path;
  return config;
}

}  // namespace fourinone
