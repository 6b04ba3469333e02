// FttpClient: the implementation of fourinone::Fttp (include/fourinone/fileops.hpp).
//
// DESIGN: a pool of FttpConnections per server, made on first use (up to
// options.connections); single requests use the first, block transfers spread over all of
// them through run_blocks (blocks.hpp). A broken connection is replaced the next time it is
// wanted. Calls are not retried: a write that met a broken connection may or may not have
// happened, and only the caller knows whether repeating it is safe (a two-phase write is:
// its temporary file went with the connection).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "fileops/client/connection.hpp"
#include "fourinone/fileops.hpp"

namespace fourinone::fileops {

class FttpClient final : public Fttp {
 public:
  explicit FttpClient(FttpOptions options);

  Result<FileInfo> stat(const FttpUrl& url) override;
  Result<std::vector<FileInfo>> list(const FttpUrl& url) override;
  Status mkdir(const FttpUrl& url, bool parents) override;
  Status remove(const FttpUrl& url, bool recursive) override;
  Status rename(const FttpUrl& from, const FttpUrl& to) override;
  Result<std::string> read(const FttpUrl& url, std::uint64_t offset, std::uint64_t length) override;
  Status write(const FttpUrl& url, std::uint64_t offset, std::string_view data, bool create, bool truncate) override;
  Result<std::string> read_file(const FttpUrl& url) override;
  Status write_file(const FttpUrl& url, std::string_view data, bool exclusive) override;
  Result<std::unique_ptr<FttpWriter>> open_writer(const FttpUrl& url, bool exclusive) override;
  Result<std::uint64_t> download(const FttpUrl& url, const std::string& local_path) override;
  Result<std::uint64_t> upload(const std::string& local_path, const FttpUrl& url, bool exclusive) override;
  Result<std::uint64_t> copy(const FttpUrl& from, const FttpUrl& to, bool exclusive) override;
  Status for_each_record(const FttpUrl& url, char delimiter, const std::function<bool(std::string_view)>& each) override;

  using Connections = std::vector<std::shared_ptr<FttpConnection>>;
  // Up to `n` open connections to `server`. Errors: unavailable, unauthenticated.
  Result<Connections> connections(const ServerAddress& server, std::size_t n);
  // One request on the server's first connection.
  Result<Reply> call(const FttpUrl& url, const proto::Request& request, std::string_view data = {},
                     std::chrono::milliseconds timeout = {});
  const FttpOptions& options() const { return options_; }

 private:
  // Reads [offset, offset + length) of `url` into blocks given to `sink(block_offset, bytes)`
  // (on io threads, in any order). Returns the bytes read (fewer at the end of the file).
  // All of one file: one replaced meanwhile is read again (on_size is called again).
  Result<std::uint64_t> read_blocks(const FttpUrl& url, std::uint64_t offset, std::uint64_t length,
                                    const std::function<Status(std::uint64_t, std::string_view)>& sink,
                                    const std::function<Status(std::uint64_t)>& on_size);
  // One attempt. identity: 0 = learn it from the first block (it is set to the file's);
  // otherwise every block must be of that file (bad_version if it was replaced).
  Result<std::uint64_t> read_blocks_once(const FttpUrl& url, std::uint64_t offset, std::uint64_t length,
                                         const std::function<Status(std::uint64_t, std::string_view)>& sink,
                                         const std::function<Status(std::uint64_t)>& on_size, std::uint64_t& identity);
  static constexpr int kReadAttempts = 5;
  // download() into an existing fifo, socket, terminal (in file order) or device (at each
  // block's offset), never under a temporary name.
  Result<std::uint64_t> download_to_stream(const FttpUrl& url, const std::string& local_path);
  // A two-phase write of `size` bytes whose block at offset o is made by fill(o, n, frame).
  Result<std::uint64_t> write_two_phase(const FttpUrl& url, std::uint64_t size, bool exclusive,
                                        const std::function<Status(std::uint64_t, std::size_t, std::string&)>& fill);

  FttpOptions options_;
  ConnectionOptions connection_options_;
  std::mutex mutex_;
  std::map<ServerAddress, Connections> pool_;  // guarded by mutex_
};

// proto::Request for `op` on `url`.
proto::Request make_request(proto::Op op, const FttpUrl& url);

}  // namespace fourinone::fileops
