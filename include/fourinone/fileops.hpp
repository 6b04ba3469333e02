// Remote files by URL ("fttp", after the original's FttpAdapter; DESIGN §5, fileops/README.md).
//
// A file server (`fourinone fttp --server HOST:PORT`) exposes only the roots of the FTTP row
// of config.xml, each a named folder, optionally read-only. A file is addressed as
//   fttp://HOST:PORT/ROOT/PATH        e.g. fttp://10.0.0.5:2121/shared/logs/a.log
// Paths never leave their root: '..', absolute paths, symlinks leading out, devices, fifos,
// sockets and over-long names are refused (no_permission or bad_request) by the server.
//
// What a client gets: metadata, list, mkdir, remove, rename; reads and writes of byte ranges;
// whole files read and written in blocks over several connections at once (each with several
// requests in flight); two-phase writes (a temporary name beside the file, renamed over it
// on commit: a reader sees the old file or the whole new one, never half of one, and a failed
// or abandoned write leaves the old file as it was); server-to-server copy (the bytes go from
// the source server to the destination server, not through the client); files read as lines,
// delimited records or arrays of 32-bit integers.
//
// Errors: not_found (no such file or folder), exists, no_permission (read-only root, a path
// that escapes its root, a device file, a login refused by the file system), bad_request (a
// malformed URL or path, a range past the end, a folder where a file was expected),
// too_large (the disk or the file size limit is full: nothing under the final name changed),
// unavailable (the server cannot be reached), timeout, unauthenticated (USERS is set and the
// login is missing or wrong).
//
// Thread-safety: an Fttp object may be used from many threads at once; an FttpWriter by one
// thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fourinone/config.hpp"
#include "fourinone/error.hpp"
#include "fourinone/park.hpp"

namespace fourinone {

inline constexpr std::uint16_t kDefaultFttpPort = 2121;  // the original's port

struct FttpUrl {
  std::string host;
  std::uint16_t port = kDefaultFttpPort;
  std::string root;  // "" only for fttp://HOST:PORT itself (the list of roots)
  std::string path;  // relative to the root, normalized ("a/b"); "" is the root

  // "fttp://HOST[:PORT]/ROOT/PATH" (scheme in any case; %XX escapes decoded; port 2121 when
  // absent). Errors: bad_request naming what is wrong; no_permission for a path with '..'.
  static Result<FttpUrl> parse(std::string_view text);
  // The URL text, with '%', '#', '?', spaces and control characters %-escaped.
  std::string to_string() const;
  ServerAddress server() const { return {host, port}; }
  // The URL of `name` inside this folder.
  FttpUrl child(std::string_view name) const;
};

enum class FileType : std::uint8_t { file = 1, folder = 2, other = 3 };  // other: device, fifo, socket, bad link

struct FileInfo {
  std::string name;          // the last name of the path (the root's name for a root)
  FileType type = FileType::file;
  std::uint64_t size = 0;    // bytes; 0 for folders
  std::int64_t mtime_ns = 0; // last change, ns since the Unix epoch
  std::uint32_t mode = 0;    // permission bits
  bool read_only = false;    // list of roots: the root is read-only
};

// A live file server, as registered in the park.
struct FttpServerInfo {
  std::string address;             // HOST:PORT
  std::vector<std::string> roots;  // "name" or "name:ro"
};

struct FttpOptions {
  std::string user;  // empty: no login (must be set when the servers have USERS)
  std::string password;
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds call_timeout{30000};  // deadline of each request (one block)
  std::uint32_t chunk = 4u << 20;   // bytes per read/write request (FTTP/CHUNK)
  std::size_t connections = 4;      // per server, for parallel block reads/writes (at least 1)
  std::size_t window = 4;           // requests in flight per connection (at least 1)
  std::string service = "fttp";     // FTTP/SERVICE: the registry name of the servers
  TlsConfig tls;                    // TLS to the servers (PARK/TLSCA ...); off by default

  // From the FTTP and PARK rows (TLS too); user/password from FOURINONE_USER / FOURINONE_PASSWORD.
  static Result<FttpOptions> from_config(const Config& config);
};

// A two-phase write in progress: bytes go to a temporary file beside the target; commit()
// renames it over the target. Destroying it without commit() aborts (the temporary file goes,
// the target is untouched); so does the server when this client disconnects.
class FttpWriter {
 public:
  virtual ~FttpWriter() = default;
  // Appends; several appends may be in flight at once. Errors: those of the server (the first
  // one is kept and returned again by commit).
  virtual Status append(std::string_view data) = 0;
  // Makes the file visible under its name, durably (fsync of file and folder). Returns its size.
  // Errors: exists (exclusive and the name was taken meanwhile), and the first append error.
  virtual Result<std::uint64_t> commit() = 0;
  virtual void abort() = 0;
};

class Fttp {
 public:
  virtual ~Fttp() = default;

  // A client; connections are made on first use, per server. Errors: bad_request (options).
  static Result<std::unique_ptr<Fttp>> connect(const FttpOptions& options = {});
  // The file servers registered in the park under `service`, ordered by address.
  static Result<std::vector<FttpServerInfo>> servers(Park& park, std::string_view service = "fttp");

  // A file or folder; for fttp://HOST:PORT/ROOT the root folder itself.
  virtual Result<FileInfo> stat(const FttpUrl& url) = 0;
  // A folder's entries sorted by name; fttp://HOST:PORT alone lists the server's roots.
  virtual Result<std::vector<FileInfo>> list(const FttpUrl& url) = 0;
  virtual Status mkdir(const FttpUrl& url, bool parents = false) = 0;
  // A file or an empty folder; recursive: a folder and everything in it.
  virtual Status remove(const FttpUrl& url, bool recursive = false) = 0;
  // Within one server and root. Replaces an existing file at `to`.
  virtual Status rename(const FttpUrl& from, const FttpUrl& to) = 0;

  // Bytes [offset, offset + length) (fewer at the end of the file), in blocks over several
  // connections when large. Errors: bad_request when offset is past the end of the file.
  virtual Result<std::string> read(const FttpUrl& url, std::uint64_t offset, std::uint64_t length) = 0;
  // Writes in place at offset (at most the file's size: no holes). create: make the file when
  // missing. truncate: the file ends where this write ends. Not atomic: use write_file or
  // open_writer for that.
  virtual Status write(const FttpUrl& url, std::uint64_t offset, std::string_view data, bool create = true,
                       bool truncate = false) = 0;

  // The whole file, read in parallel blocks.
  virtual Result<std::string> read_file(const FttpUrl& url) = 0;
  // Replaces (or creates) the whole file by a two-phase write in parallel blocks.
  // exclusive: fail with exists rather than replace.
  virtual Status write_file(const FttpUrl& url, std::string_view data, bool exclusive = false) = 0;
  virtual Result<std::unique_ptr<FttpWriter>> open_writer(const FttpUrl& url, bool exclusive = false) = 0;
  // The same between a remote file and a local one, without holding the file in memory.
  virtual Result<std::uint64_t> download(const FttpUrl& url, const std::string& local_path) = 0;
  virtual Result<std::uint64_t> upload(const std::string& local_path, const FttpUrl& url, bool exclusive = false) = 0;
  // Whole-file copy, server to server (two-phase at the destination). Returns the bytes copied.
  virtual Result<std::uint64_t> copy(const FttpUrl& from, const FttpUrl& to, bool exclusive = false) = 0;

  // Calls `each` with every record of the file in order: the bytes between delimiters (the
  // delimiter not included; a last record without a delimiter is still given). Return false
  // from `each` to stop early. Records may span blocks and be of any size.
  virtual Status for_each_record(const FttpUrl& url, char delimiter,
                                 const std::function<bool(std::string_view)>& each) = 0;
  // Lines ('\n'; a '\r' before it is dropped too).
  Result<std::vector<std::string>> read_lines(const FttpUrl& url);
  Result<std::vector<std::string>> read_records(const FttpUrl& url, char delimiter);
  // The file as 32-bit signed integers, little-endian (4 bytes each; the original wrote Java's
  // big-endian: convert such files once). Errors: bad_request when the size is not a multiple of 4.
  Result<std::vector<std::int32_t>> read_ints(const FttpUrl& url);
  // Integers [first, first + count) of such a file.
  Result<std::vector<std::int32_t>> read_ints(const FttpUrl& url, std::uint64_t first, std::uint64_t count);
  Status write_ints(const FttpUrl& url, const std::vector<std::int32_t>& values);
};

}  // namespace fourinone
