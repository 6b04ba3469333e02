// config.xml: the one file every Fourinone process starts from (DESIGN §6).
//
// The file keeps the original's shape: <PROPSTABLE> holding <PROPSROW DESC="PARK">, "LOG", ...
// rows of simple elements. load_config() checks the whole file once; a bad file is refused
// with a config_error naming the file, the line and the element at fault. Unknown rows and
// elements are kept as warnings (Config::warnings), never silently ignored.
// Config is a plain value type; load_config() is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fourinone/error.hpp"

namespace fourinone {

struct ServerAddress {
  std::string host;
  std::uint16_t port = 0;

  std::string to_string() const { return host + ":" + std::to_string(port); }
  friend bool operator==(const ServerAddress&, const ServerAddress&) = default;
  friend auto operator<=>(const ServerAddress&, const ServerAddress&) = default;
};

// "host:port" -> address; bad_request naming the text when it is not of that form.
Result<ServerAddress> parse_server_address(std::string_view text);

// A config.xml boolean: "true" or "false" in any case; nullopt for anything else (a typo
// must stop the start, not silently turn a feature off). For parts reading Config::rows.
std::optional<bool> parse_config_bool(std::string_view text);
// A config.xml size: "1048576", "512K", "16M", "1G" (binary multiples); nullopt otherwise.
std::optional<std::uint64_t> parse_config_bytes(std::string_view text);

struct Config;
// For parts reading their own rows (Config::rows): the text of ROW/NAME, or nullptr.
const std::string* config_element(const Config& config, const std::string& row, const std::string& name);
// The config_error every config.xml mistake gets: "FILE:LINE: NAME in row ROW: why, got 'text'".
Status config_element_error(const Config& config, const std::string& row, const std::string& name,
                            const std::string& why);
// "a, b ,c" -> {"a", "b", "c"}: split at `separator`, each part trimmed of blanks.
std::vector<std::string> split_config_list(std::string_view text, char separator);

// One user allowed to log in. The password itself is never stored: only what the
// challenge/response login needs (see core/auth.hpp and `fourinone passwd`).
struct UserEntry {
  std::string name;
  std::string salt;        // raw bytes
  std::uint32_t iterations = 0;
  std::string stored_key;  // raw bytes: SHA-256(ClientKey)
  std::string server_key;  // raw bytes: HMAC(SaltedPassword, "Server Key")
};

// TLS on every connection of the group (TLSCA, TLSCERT, TLSKEY, TLSCLIENTCERTS of row PARK; see
// core/CONFIG.md "TLS"). Paths are absolute once the config is loaded. Off while `ca` is empty.
struct TlsConfig {
  std::string ca;             // TLSCA: PEM certificates of the CA(s) every peer's certificate must chain to
  std::string cert;           // TLSCERT: PEM certificate (chain) this process shows; servers need one
  std::string key;            // TLSKEY: PEM private key of `cert`
  bool client_certs = false;  // TLSCLIENTCERTS: servers accept only clients showing a certificate of the CA
  bool on() const noexcept { return !ca.empty(); }
};

// Row PARK. Durations are in the unit the original used (ms, hours) unless noted.
struct ParkConfig {
  std::vector<ServerAddress> servers;             // SERVERS: h:p,h:p,... (required)
  std::string data_dir = "data";                  // DATADIR: absolute, or relative to the config file
  std::chrono::milliseconds session_timeout{6000};  // SESSIONTIMEOUT
  std::chrono::milliseconds heartbeat{1000};        // HEARTBEAT: client heartbeat period
  std::chrono::milliseconds max_delay{0};           // MAXDELAY: rescue period after a leader change
  double expiration_hours = 24;                   // EXPIRATION
  double clear_period_hours = 0;                  // CLEARPERIOD: <= 0 turns the clear task off
  double safe_memory_per = 0.95;                  // SAFEMEMORYPER: fraction of MAXMEMORY
  std::uint64_t max_memory = 1ull << 30;          // MAXMEMORY: bytes the store may hold
  std::uint64_t max_value = 16ull << 20;          // MAXVALUE: bytes in one node value
  std::uint32_t max_name = 255;                   // MAXNAME: bytes in a domain or node name
  std::uint64_t snapshot_entries = 100'000;       // SNAPSHOTENTRIES: log entries between snapshots
  std::uint64_t wal_segment = 64ull << 20;        // WALSEGMENT: bytes per write-ahead log segment file
  std::vector<UserEntry> users;                   // USERS: empty = no login required
  // ADMINS: users (of USERS) who may run admin operations (membership changes). With USERS and
  // no ADMINS, nobody may; without USERS, everyone may (like every other call then).
  std::vector<std::string> admins;
  bool always_try_leader = false;                 // ALWAYSTRYLEADER (clients)
  bool lease_reads = true;                        // LEASEREADS: the leader serves reads on its lease
  // GROUPKEY, or the first line of GROUPKEYFILE: the secret the park servers of a group prove
  // to each other (challenge/response) before one takes another's Raft messages. Empty: any
  // connection may speak for a server (a warning at start when not on loopback).
  std::string group_key;
  TlsConfig tls;                                  // TLSCA, TLSCERT, TLSKEY, TLSCLIENTCERTS
  // HTTP: where each server of SERVERS (same order) serves its status page and /metrics.
  // Empty: no HTTP port (fourinone park --http gives one to a single server).
  std::vector<ServerAddress> http;
};

// Row LOG.
struct LogConfig {
  std::string level = "info";  // LEVELNAME: trace, debug, info, warn, error, off (FINE=debug ...)
  std::string file;            // FILE: empty = stderr
};

struct ConfigWarning {
  std::string file;
  int line = 0;
  std::string message;
};

struct Config {
  std::string file;  // the path it was read from ("" when parsed from text)
  std::string dir;   // the folder relative paths resolve against
  ParkConfig park;
  LogConfig log;
  // Every row as read, element name -> text (for the parts that read their own rows).
  std::map<std::string, std::map<std::string, std::string>> rows;
  std::vector<ConfigWarning> warnings;

  // data_dir resolved against dir.
  std::string resolved_data_dir() const;
};

// Reads and checks the file. Errors: config_error ("FILE:LINE: <ELEMENT> in row ROW: why").
Result<Config> load_config(const std::string& path);

// The same from text; file_name is used in messages and dir resolves relative paths.
Result<Config> parse_config(std::string_view text, const std::string& file_name, const std::string& dir = ".");

}  // namespace fourinone
