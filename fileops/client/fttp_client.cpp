#include "fileops/client/fttp_client.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "core/frame.hpp"
#include "fileops/client/blocks.hpp"
#include "fileops/client/record_splitter.hpp"
#include "fileops/path/fd.hpp"

namespace fourinone::fileops {
namespace {

FileInfo info_of(const proto::Entry& e) {
  FileInfo f;
  f.name = e.name;
  f.type = e.type == proto::kFile ? FileType::file : e.type == proto::kFolder ? FileType::folder : FileType::other;
  f.size = e.size;
  f.mtime_ns = e.mtime_ns;
  f.mode = e.mode;
  return f;
}

Status need_path(const FttpUrl& url, const char* what) {
  if (url.root.empty()) return Status(Errc::bad_request, std::string(what) + " needs a root and a path: " + url.to_string());
  return {};
}

Status local_error(const std::string& what) { return Status(errno == ENOENT ? Errc::not_found : Errc::internal, what + ": " + std::strerror(errno)); }

}  // namespace

proto::Request make_request(proto::Op op, const FttpUrl& url) {
  proto::Request r;
  r.op = static_cast<std::uint8_t>(op);
  r.root = url.root;
  r.path = url.path;
  return r;
}

FttpClient::FttpClient(FttpOptions options) : options_(std::move(options)) {
  options_.connections = std::max<std::size_t>(options_.connections, 1);
  options_.window = std::max<std::size_t>(options_.window, 1);
  options_.chunk = std::clamp<std::uint32_t>(options_.chunk, 4096, 16u << 20);
  connection_options_.rpc.client_id = core::random_client_id();
  connection_options_.rpc.user = options_.user;
  connection_options_.rpc.password = options_.password;
  connection_options_.rpc.connect_timeout = options_.connect_timeout;
  connection_options_.rpc.tls = core::TlsContext::for_client(options_.tls);
  connection_options_.rpc.max_frame = std::max<std::uint32_t>(core::kDefaultMaxFrame, options_.chunk + (1u << 20));
  connection_options_.call_timeout = options_.call_timeout;
}

Result<FttpClient::Connections> FttpClient::connections(const ServerAddress& server, std::size_t n) {
  n = std::clamp<std::size_t>(n, 1, options_.connections);
  Connections out;
  std::lock_guard lock(mutex_);  // held while connecting: callers of one client wait for the same sockets
  auto& slots = pool_[server];
  if (slots.size() < n) slots.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!slots[i] || !slots[i]->is_open()) {
      auto c = FttpConnection::open(server, connection_options_);
      if (!c.ok()) {
        if (i == 0) return c.status();
        break;  // fewer connections than asked is still progress
      }
      slots[i] = std::shared_ptr<FttpConnection>(std::move(c.value()));
    }
    out.push_back(slots[i]);
  }
  return out;
}

Result<Reply> FttpClient::call(const FttpUrl& url, const proto::Request& request, std::string_view data,
                               std::chrono::milliseconds timeout) {
  auto c = connections(url.server(), 1);
  if (!c.ok()) return c.status();
  return c->front()->call(request, data, timeout);
}

Result<FileInfo> FttpClient::stat(const FttpUrl& url) {
  if (url.root.empty()) {
    auto roots = list(url);
    if (!roots.ok()) return roots.status();
    FileInfo f;
    f.name = url.server().to_string();
    f.type = FileType::folder;
    return f;
  }
  auto r = call(url, make_request(proto::Op::stat, url));
  if (!r.ok()) return r.status();
  return info_of(r->head.entry);
}

Result<std::vector<FileInfo>> FttpClient::list(const FttpUrl& url) {
  auto r = call(url, make_request(url.root.empty() ? proto::Op::roots : proto::Op::list, url));
  if (!r.ok()) return r.status();
  std::vector<FileInfo> out;
  for (const auto& e : r->head.entries) {
    out.push_back(info_of(e));
    if (url.root.empty()) {
      out.back().read_only = e.size == 1;
      out.back().size = 0;
    }
  }
  return out;
}

Status FttpClient::mkdir(const FttpUrl& url, bool parents) {
  if (Status s = need_path(url, "mkdir"); !s.ok()) return s;
  auto request = make_request(proto::Op::mkdir, url);
  if (parents) request.flags |= proto::kParents;
  return call(url, request).status();
}

Status FttpClient::remove(const FttpUrl& url, bool recursive) {
  if (Status s = need_path(url, "remove"); !s.ok()) return s;
  auto request = make_request(proto::Op::remove, url);
  if (recursive) request.flags |= proto::kRecursive;
  return call(url, request).status();
}

Status FttpClient::rename(const FttpUrl& from, const FttpUrl& to) {
  if (Status s = need_path(from, "rename"); !s.ok()) return s;
  if (from.server() != to.server()) {
    return Status(Errc::bad_request, "rename within one server only (use copy, then remove): " + from.to_string() +
                                         " -> " + to.to_string());
  }
  auto request = make_request(proto::Op::rename, from);
  request.root2 = to.root;
  request.path2 = to.path;
  return call(from, request).status();
}

Result<std::uint64_t> FttpClient::read_blocks(const FttpUrl& url, std::uint64_t offset, std::uint64_t length,
                                              const std::function<Status(std::uint64_t, std::string_view)>& sink,
                                              const std::function<Status(std::uint64_t)>& on_size) {
  if (Status s = need_path(url, "read"); !s.ok()) return s;
  // A file replaced (two-phase write) between two blocks is read again from the start, so
  // the bytes given are all of one file; a file replaced faster than it can be read fails.
  for (int attempt = 1;; ++attempt) {
    std::uint64_t identity = 0;
    auto got = read_blocks_once(url, offset, length, sink, on_size, identity);
    if (got.ok() || got.status().code() != Errc::bad_version || attempt == kReadAttempts) return got;
  }
}

Result<std::uint64_t> FttpClient::read_blocks_once(const FttpUrl& url, std::uint64_t offset, std::uint64_t length,
                                                   const std::function<Status(std::uint64_t, std::string_view)>& sink,
                                                   const std::function<Status(std::uint64_t)>& on_size,
                                                   std::uint64_t& identity) {
  const std::uint64_t chunk = options_.chunk;
  // The first block alone: it checks the range and tells the file's size and identity, so
  // the others are never asked for bytes past the end, nor of another file.
  auto first = make_request(proto::Op::read, url);
  first.offset = offset;
  first.length = std::min(length, chunk);
  first.handle = identity;
  auto r = call(url, first);
  if (!r.ok()) return r.status();
  std::uint64_t size = r->head.size;
  identity = r->head.handle;
  std::uint64_t total = std::min(length, size - std::min(size, offset));
  if (on_size) {
    if (Status s = on_size(total); !s.ok()) return s;
  }
  if (Status s = sink(offset, r->data()); !s.ok()) return s;
  if (r->data().size() >= total) return static_cast<std::uint64_t>(r->data().size());
  std::uint64_t rest_from = offset + r->data().size();
  std::uint64_t rest = total - r->data().size();
  std::size_t blocks = static_cast<std::size_t>((rest + chunk - 1) / chunk);
  auto conns = connections(url.server(), std::min<std::size_t>(blocks, options_.connections));
  if (!conns.ok()) return conns.status();
  std::vector<FttpConnection*> raw;
  for (auto& c : conns.value()) raw.push_back(c.get());
  std::atomic<std::uint64_t> got{r->data().size()};
  Status s = run_blocks(
      raw, options_.window, blocks,
      [&](std::size_t i) -> Result<std::string> {
        auto q = make_request(proto::Op::read, url);
        q.offset = rest_from + i * chunk;
        q.length = std::min<std::uint64_t>(chunk, rest - i * chunk);
        q.handle = identity;
        return FttpConnection::make_frame(q, {});
      },
      [&](std::size_t i, Reply& reply) -> Status {
        got += reply.data().size();
        return sink(rest_from + i * chunk, reply.data());
      });
  if (!s.ok()) return s;
  return got.load();
}

Result<std::string> FttpClient::read(const FttpUrl& url, std::uint64_t offset, std::uint64_t length) {
  std::string out;
  std::uint64_t limit = 0;
  auto got = read_blocks(
      url, offset, length,
      [&](std::uint64_t at, std::string_view bytes) -> Status {
        std::uint64_t pos = at - offset;
        if (pos + bytes.size() > limit) bytes = bytes.substr(0, static_cast<std::size_t>(limit - std::min(limit, pos)));
        if (!bytes.empty()) std::memcpy(out.data() + pos, bytes.data(), bytes.size());
        return {};
      },
      [&](std::uint64_t total) -> Status {
        if (total > out.max_size() / 2) return Status(Errc::too_large, "the range does not fit in memory; use download");
        limit = total;
        out.resize(static_cast<std::size_t>(total));
        return {};
      });
  if (!got.ok()) return got.status();
  // A file that shrank during the read ends where the bytes ended.
  if (got.value() < out.size()) out.resize(static_cast<std::size_t>(got.value()));
  return out;
}

Result<std::string> FttpClient::read_file(const FttpUrl& url) { return read(url, 0, ~std::uint64_t{0} >> 1); }

Status FttpClient::write(const FttpUrl& url, std::uint64_t offset, std::string_view data, bool create, bool truncate) {
  if (Status s = need_path(url, "write"); !s.ok()) return s;
  const std::uint64_t chunk = options_.chunk;
  auto first = make_request(proto::Op::write, url);
  first.offset = offset;
  first.flags = create ? proto::kCreate : 0;
  std::string_view head = data.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(chunk, data.size())));
  if (truncate && head.size() == data.size()) first.flags |= proto::kTruncate;
  if (auto r = call(url, first, head); !r.ok()) return r.status();
  if (head.size() == data.size()) return {};
  std::string_view rest = data.substr(head.size());
  std::size_t blocks = static_cast<std::size_t>((rest.size() + chunk - 1) / chunk);
  auto conns = connections(url.server(), std::min<std::size_t>(blocks, options_.connections));
  if (!conns.ok()) return conns.status();
  std::vector<FttpConnection*> raw;
  for (auto& c : conns.value()) raw.push_back(c.get());
  Status s = run_blocks(
      raw, options_.window, blocks,
      [&](std::size_t i) -> Result<std::string> {
        auto q = make_request(proto::Op::write, url);
        q.offset = offset + head.size() + i * chunk;
        q.flags = proto::kNoHoleCheck;  // the first block checked the range; the others land in any order
        return FttpConnection::make_frame(q, rest.substr(i * chunk, static_cast<std::size_t>(chunk)));
      },
      [](std::size_t, Reply&) { return Status(); });
  if (!s.ok() || !truncate) return s;
  auto end = make_request(proto::Op::write, url);
  end.offset = offset + data.size();
  end.flags = proto::kTruncate;
  return call(url, end).status();
}

Result<std::uint64_t> FttpClient::write_two_phase(
    const FttpUrl& url, std::uint64_t size, bool exclusive,
    const std::function<Status(std::uint64_t, std::size_t, std::string&)>& fill) {
  if (Status s = need_path(url, "write"); !s.ok()) return s;
  const std::uint64_t chunk = options_.chunk;
  std::size_t blocks = static_cast<std::size_t>((size + chunk - 1) / chunk);
  // Every block of a two-phase write goes through connections of this client; the write is
  // owned by the first, whose loss aborts it on the server.
  auto conns = connections(url.server(), std::max<std::size_t>(1, std::min<std::size_t>(blocks, options_.connections)));
  if (!conns.ok()) return conns.status();
  FttpConnection& owner = *conns->front();
  auto open = make_request(proto::Op::open_write, url);
  open.length = size;  // the server claims the space first: a full disk fails here, before any byte
  if (exclusive) open.flags |= proto::kExclusive;
  auto opened = owner.call(open);
  if (!opened.ok()) return opened.status();
  std::uint64_t handle = opened->head.handle;
  std::vector<FttpConnection*> raw;
  for (auto& c : conns.value()) raw.push_back(c.get());
  Status s = run_blocks(
      raw, options_.window, blocks,
      [&](std::size_t i) -> Result<std::string> {
        auto q = make_request(proto::Op::write, url);
        q.handle = handle;
        q.offset = i * chunk;
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, size - q.offset));
        std::string frame = FttpConnection::frame_with_room(q, n);
        if (Status f = fill(q.offset, n, frame); !f.ok()) return f;
        return frame;
      },
      [](std::size_t, Reply&) { return Status(); });
  proto::Request end;
  end.handle = handle;
  if (!s.ok()) {
    end.op = static_cast<std::uint8_t>(proto::Op::abort);
    (void)owner.call(end);
    return s;
  }
  end.op = static_cast<std::uint8_t>(proto::Op::commit);
  end.length = size;
  end.flags = proto::kTruncate;
  auto committed = owner.call(end);
  if (!committed.ok()) return committed.status();
  return committed->head.size;
}

Status FttpClient::write_file(const FttpUrl& url, std::string_view data, bool exclusive) {
  return write_two_phase(url, data.size(), exclusive,
                         [&](std::uint64_t at, std::size_t n, std::string& frame) {
                           std::memcpy(frame.data() + frame.size() - n, data.data() + at, n);
                           return Status();
                         })
      .status();
}

Result<std::uint64_t> FttpClient::upload(const std::string& local_path, const FttpUrl& url, bool exclusive) {
  Fd fd(::open(local_path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st{};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) return local_error("reading " + local_path);
  if (!S_ISREG(st.st_mode)) return Status(Errc::bad_request, local_path + " is not a regular file");
  return write_two_phase(url, static_cast<std::uint64_t>(st.st_size), exclusive,
                         [&](std::uint64_t at, std::size_t n, std::string& frame) -> Status {
                           const ssize_t got = pread_full(fd.get(), frame.data() + frame.size() - n, n, at);
                           if (got < 0 || static_cast<std::size_t>(got) < n) {
                             return local_error("reading " + local_path + " (did it shrink?)");
                           }
                           return {};
                         });
}

namespace {

// A read_blocks sink that writes each block at its offset of `fd` (`name` for errors).
std::function<Status(std::uint64_t, std::string_view)> pwrite_sink(int fd, const std::string& name) {
  return [fd, name](std::uint64_t at, std::string_view bytes) -> Status {
    return pwrite_full(fd, bytes, at) ? Status() : local_error("writing " + name);
  };
}

}  // namespace

Result<std::uint64_t> FttpClient::download_to_stream(const FttpUrl& url, const std::string& local_path) {
  Fd fd(::open(local_path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return local_error("writing " + local_path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return local_error("writing " + local_path);
  if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !::isatty(fd.get())) {
    // A device that can seek (/dev/null, a block device): each block at its offset, as it comes.
    return read_blocks(url, 0, ~std::uint64_t{0} >> 1, pwrite_sink(fd.get(), local_path), nullptr);
  }
  // A fifo, a socket or a terminal takes the bytes in order: blocks that arrive early wait (at
  // most the blocks in flight: connections x window) until those before them are written.
  std::mutex mutex;
  std::map<std::uint64_t, std::string> early;
  std::uint64_t next = 0;
  auto write_all = [&](std::string_view bytes) -> Status {
    while (!bytes.empty()) {
      ssize_t k = ::write(fd.get(), bytes.data(), bytes.size());
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) return local_error("writing " + local_path);
      bytes.remove_prefix(static_cast<std::size_t>(k));
    }
    return {};
  };
  return read_blocks(
      url, 0, ~std::uint64_t{0} >> 1,
      [&](std::uint64_t at, std::string_view bytes) -> Status {
        std::lock_guard lock(mutex);
        if (at != next) {
          early.emplace(at, std::string(bytes));
          return {};
        }
        if (Status s = write_all(bytes); !s.ok()) return s;
        next += bytes.size();
        for (auto it = early.begin(); it != early.end() && it->first == next; it = early.erase(it)) {
          if (Status s = write_all(it->second); !s.ok()) return s;
          next += it->second.size();
        }
        return {};
      },
      [&](std::uint64_t) -> Status {
        // The file was replaced and is read again from the start: nothing written can be
        // taken back from a stream.
        if (next > 0) return Status(Errc::bad_version, url.to_string() + " was replaced while it streamed to " + local_path);
        return {};
      });
}

Result<std::uint64_t> FttpClient::download(const FttpUrl& url, const std::string& local_path) {
  // An existing fifo, device or socket (/dev/null, /dev/stdout, a pipe) is written in place:
  // renaming a file over it would replace the device itself.
  struct stat st {};
  if (::stat(local_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) return Status(Errc::bad_request, local_path + " is a folder; name the file to write");
    return download_to_stream(url, local_path);
  }
  // Into a temporary name beside the target, renamed at the end: no half file under its name.
  std::string temp = local_path + ".fttp-part";
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return local_error("writing " + temp);
  auto got = read_blocks(url, 0, ~std::uint64_t{0} >> 1, pwrite_sink(fd.get(), temp), nullptr);
  if (got.ok() && (::ftruncate(fd.get(), static_cast<off_t>(got.value())) != 0 || ::fsync(fd.get()) != 0 ||
                   ::rename(temp.c_str(), local_path.c_str()) != 0)) {
    got = local_error("writing " + local_path);
  }
  if (!got.ok()) ::unlink(temp.c_str());
  return got;
}

Result<std::uint64_t> FttpClient::copy(const FttpUrl& from, const FttpUrl& to, bool exclusive) {
  if (Status s = need_path(from, "copy"); !s.ok()) return s;
  if (Status s = need_path(to, "copy"); !s.ok()) return s;
  auto info = stat(from);
  if (!info.ok()) return info.status();
  auto request = make_request(proto::Op::copy, from);
  request.path2 = to.to_string();
  if (exclusive) request.flags |= proto::kExclusive;
  // The server answers once the whole file is at the destination: allow for the transfer
  // (at a pessimistic 8 MiB/s) on top of the usual deadline.
  auto timeout = options_.call_timeout + std::chrono::seconds(info->size / (8u << 20));
  auto r = call(from, request, {}, std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
  if (!r.ok()) return r.status();
  return r->head.size;
}

Status FttpClient::for_each_record(const FttpUrl& url, char delimiter,
                                   const std::function<bool(std::string_view)>& each) {
  if (Status s = need_path(url, "read"); !s.ok()) return s;
  // Spans of several blocks at a time (read in parallel), fed in file order, every span of
  // the same file. A file replaced before the first record was given is read again; after
  // that, the records given cannot be taken back, so a replacement is an error rather than
  // a silent mix of two files.
  const std::uint64_t span = static_cast<std::uint64_t>(options_.chunk) * options_.window * options_.connections;
  for (int attempt = 1;; ++attempt) {
    RecordSplitter splitter(delimiter, delimiter == '\n');
    std::uint64_t identity = 0;
    std::string bytes;
    bool again = false;
    for (std::uint64_t offset = 0;; offset += span) {
      auto got = read_blocks_once(
          url, offset, span,
          [&](std::uint64_t at, std::string_view block) -> Status {
            std::uint64_t pos = at - offset;
            if (pos < bytes.size()) {
              block = block.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), bytes.size() - pos)));
              std::memcpy(bytes.data() + pos, block.data(), block.size());
            }
            return {};
          },
          [&](std::uint64_t total) -> Status {
            bytes.resize(static_cast<std::size_t>(total));
            return {};
          },
          identity);
      if (!got.ok()) {
        if (got.status().code() != Errc::bad_version) return got.status();
        if (offset > 0) {
          return Status(Errc::bad_version, url.to_string() +
                                               " was replaced while its records were read; those given so far are "
                                               "of the old file");
        }
        again = attempt < kReadAttempts;
        if (!again) return got.status();
        break;
      }
      if (got.value() < bytes.size()) bytes.resize(static_cast<std::size_t>(got.value()));
      if (!splitter.feed(bytes, each)) return {};
      if (bytes.size() < span) break;
    }
    if (again) continue;
    splitter.finish(each);
    return {};
  }
}

}  // namespace fourinone::fileops
