#include "fileops/server/fttp_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>

#include "core/frame.hpp"
#include "core/version.hpp"
#include "fileops/client/blocks.hpp"
#include "fileops/client/connection.hpp"
#include "fileops/path/fd.hpp"
#include "fileops/server/registration.hpp"
#include "fourinone/fileops.hpp"

namespace fourinone::fileops {
namespace {

constexpr std::size_t kCopyThreads = 2;
constexpr std::size_t kCopyWindow = 4;  // blocks in flight from a copying server to its destination

}  // namespace

Result<std::unique_ptr<FttpServer>> FttpServer::start(FttpServerOptions options) {
  auto settings = load_fttp_settings(options.config);
  if (!settings.ok()) return settings.status();
  if (settings->roots.empty()) {
    return Status(Errc::config_error, (options.config.file.empty() ? std::string("(config text)") : options.config.file) +
                                          ": the FTTP row has no ROOTS: a file server exposes only its roots");
  }
  std::vector<RootFs> roots;
  for (const auto& spec : settings->roots) {
    auto fs = RootFs::open(spec);
    if (!fs.ok()) return fs.status();
    roots.push_back(std::move(fs.value()));
  }
  // Past RLIMIT_FSIZE a write must fail with EFBIG (a clear error, the old file intact), not
  // kill the server with SIGXFSZ.
  ::signal(SIGXFSZ, SIG_IGN);
  if (!options.http) {  // this server's entry of FTTP/HTTP, if any
    const auto& servers = settings->servers;
    auto place = std::find(servers.begin(), servers.end(), options.self);
    if (place != servers.end() && !settings->http.empty()) options.http = settings->http[place - servers.begin()];
  }
  std::unique_ptr<FttpServer> server(new FttpServer(std::move(options), std::move(settings.value()), std::move(roots)));
  if (Status s = server->rpc_->listen(server->options_.self.host, server->options_.self.port); !s.ok()) return s;
  if (server->options_.register_in_park) {
    std::string roots_meta;
    for (const auto& r : server->settings_.roots) roots_meta += (roots_meta.empty() ? "" : ",") + r.name + (r.read_only ? ":ro" : "");
    server->registration_ = std::make_unique<Registration>(server->options_.config, server->settings_.service,
                                                           server->self_, std::map<std::string, std::string>{{"roots", roots_meta}});
  }
  if (const auto& http = server->options_.http) {
    FttpServer* self = server.get();
    server->http_ = std::make_unique<core::RoleHttp>(
        "fttp server " + server->self_, server->options_.config, server->io_,
        core::RoleHttp::Sources{[self](core::MetricsWriter& out) { self->write_metrics(out); },
                                [self] {
                                  core::RoleHttp::Rows rows{{"server", self->self_}};
                                  for (const auto& r : self->settings_.roots) {
                                    rows.emplace_back("root " + r.name, r.folder + (r.read_only ? " (read-only)" : ""));
                                  }
                                  rows.emplace_back("requests", std::to_string(self->requests_.value()));
                                  rows.emplace_back("connections",
                                                    std::to_string(self->net_stats_->open.load(std::memory_order_relaxed)));
                                  return rows;
                                }});
    if (Status s = server->http_->start(http->host, http->port); !s.ok()) return s;
    spdlog::info("fttp {}: status page and /metrics on http://{}:{}/", server->self_, http->host, server->http_->port());
  }
  return server;
}

FttpServer::FttpServer(FttpServerOptions options, FttpSettings settings, std::vector<RootFs> roots)
    : options_(std::move(options)),
      settings_(std::move(settings)),
      self_(options_.self.to_string()),
      // A request may carry up to a frame's worth (less room for the head), whatever CHUNK
      // says: CHUNK is what our own transfers use, not a limit on clients configured otherwise.
      ops_(std::move(roots), std::max<std::uint32_t>(core::kDefaultMaxFrame, settings_.chunk + (1u << 20)) - (1u << 20),
           std::max<std::uint32_t>(core::kDefaultMaxFrame, settings_.chunk + (1u << 20))),
      signals_(io_),
      disk_(settings_.threads),
      copies_(kCopyThreads) {
  core::RpcServerOptions rpc;
  rpc.server_id = self_;
  rpc.users = options_.config.park.users;  // the same logins as the park
  rpc.tls = core::TlsContext::for_server(options_.config);  // and the same TLS
  rpc.stats = net_stats_;
  // One chunk of data plus room for the head (names, paths).
  rpc.max_frame = std::max<std::uint32_t>(core::kDefaultMaxFrame, settings_.chunk + (1u << 20));
  rpc_ = std::make_unique<core::RpcServer>(io_, *this, rpc);
  copy_tls_ = core::TlsContext::for_client(options_.config.park.tls);
}

FttpServer::~FttpServer() {
  disk_.join();
  copies_.join();
  ops_.pending().abort_all();
  registration_.reset();
}

void FttpServer::run() {
  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("fttp {}: signal {}: shutting down", self_, sig);
    stop();
  });
  std::string roots;
  for (const auto& r : settings_.roots) roots += " " + r.name + "=" + r.folder + (r.read_only ? " (read-only)" : "");
  spdlog::info("fttp server {} serving{} ({} disk threads, {} byte chunks)", self_, roots, settings_.threads,
               settings_.chunk);
  io_.run();
  if (http_) http_->stop();
  // No connection is served any more: the writes they had open go (the old files stay).
  disk_.join();
  copies_.join();
  ops_.pending().abort_all();
  registration_.reset();  // leaves the park: the instance goes at once
}

void FttpServer::stop() {
  boost::asio::post(io_, [this] {
    if (stopping_) return;
    stopping_ = true;
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    rpc_->stop();
    io_.stop();
  });
}

void FttpServer::on_request(const core::RpcConnectionPtr& connection, std::uint64_t id, std::string_view body) {
  proto::Request request;
  std::string_view data;
  if (Status s = proto::decode_body(body, request, data, "fttp request"); !s.ok()) {
    connection->fail(id, s);  // garbage: error frame and close; nothing was touched
    return;
  }
  requests_.add();
  auto answer = [connection, id](std::string frame) {
    auto executor = connection->executor();
    boost::asio::post(executor, [connection, id, frame = std::move(frame)]() mutable {
      if (connection->is_open()) connection->reply_frame(id, std::move(frame));
    });
  };
  if (request.op == static_cast<std::uint8_t>(proto::Op::copy)) {
    boost::asio::post(copies_, [this, answer, request = std::move(request)] { answer(copy(request)); });
    return;
  }
  // The one copy of a write's bytes: out of the connection's read buffer, for the disk thread.
  auto closed = std::static_pointer_cast<std::atomic<bool>>(connection->handler_state);
  boost::asio::post(disk_, [this, answer, closed, owner = static_cast<const void*>(connection.get()),
                            request = std::move(request), bytes = std::string(data)] {
    answer(ops_.handle(request, bytes, owner));
    // The connection closed while its open_write ran: on_close's abort may have come first.
    if (request.op == static_cast<std::uint8_t>(proto::Op::open_write) && closed && closed->load()) {
      ops_.pending().abort_owned_by(owner);
    }
  });
}

void FttpServer::on_open(const core::RpcConnectionPtr& connection) {
  connection->handler_state = std::make_shared<std::atomic<bool>>(false);  // "closed"
}

void FttpServer::on_close(const core::RpcConnectionPtr& connection) {
  // A client gone mid-write: its temporary files go, nothing appears under the final names.
  // On the disk pool, behind any write of this connection still queued there.
  if (auto closed = std::static_pointer_cast<std::atomic<bool>>(connection->handler_state)) closed->store(true);
  boost::asio::post(disk_, [this, owner = static_cast<const void*>(connection.get()), keep = connection] {
    std::size_t n = ops_.pending().abort_owned_by(owner);
    if (n > 0) spdlog::info("fttp {}: a client left with {} unfinished write(s); aborted", self_, n);
  });
}

std::string FttpServer::copy(const proto::Request& r) {
  auto where = ops_.resolve(r.root, r.path);
  if (!where.ok()) return FileOps::error_frame(where.status());
  auto [fs, rel] = where.value();
  struct stat st{};
  auto fd = fs->open_file(rel, O_RDONLY, st);
  if (!fd.ok()) return FileOps::error_frame(fd.status());
  auto to = FttpUrl::parse(r.path2);
  if (!to.ok()) return FileOps::error_frame(to.status());
  if (to->root.empty() || to->path.empty()) {
    return FileOps::error_frame(Status(Errc::bad_request, "copy needs a destination file: " + r.path2));
  }
  ConnectionOptions link;
  link.rpc.client_id = core::random_client_id();
  // The server logs in to the destination as the park servers log in to each other.
  if (const char* user = std::getenv("FOURINONE_USER")) link.rpc.user = user;
  if (const char* password = std::getenv("FOURINONE_PASSWORD")) link.rpc.password = password;
  link.rpc.max_frame = std::max<std::uint32_t>(core::kDefaultMaxFrame, settings_.chunk + (1u << 20));
  link.rpc.tls = copy_tls_;
  auto dest = FttpConnection::open(to->server(), link);
  if (!dest.ok()) {
    return FileOps::error_frame(Status(dest.status().code(), "copy to " + to->to_string() + ": " + dest.status().message()));
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  proto::Request open;
  open.op = static_cast<std::uint8_t>(proto::Op::open_write);
  open.root = to->root;
  open.path = to->path;
  open.length = size;
  open.flags = r.flags & proto::kExclusive;
  auto opened = dest.value()->call(open);
  if (!opened.ok()) return FileOps::error_frame(opened.status());
  const std::uint64_t handle = opened->head.handle;
  const std::uint64_t chunk = settings_.chunk;
  std::size_t blocks = static_cast<std::size_t>((size + chunk - 1) / chunk);
  std::string display = fs->display(rel);
  int source = fd->get();
  Status s = run_blocks(
      {dest.value().get()}, kCopyWindow, blocks,
      [&](std::size_t i) -> Result<std::string> {
        proto::Request q;
        q.op = static_cast<std::uint8_t>(proto::Op::write);
        q.handle = handle;
        q.offset = i * chunk;
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, size - q.offset));
        std::string frame = FttpConnection::frame_with_room(q, n);
        const ssize_t got = pread_full(source, frame.data() + frame.size() - n, n, q.offset);
        if (got < 0) return errno_status(errno, "reading " + display);
        if (static_cast<std::size_t>(got) < n) {
          return Status(Errc::internal, "copying " + display + ": the file shrank during the copy");
        }
        return frame;
      },
      [](std::size_t, Reply&) { return Status(); });
  proto::Request end;
  end.handle = handle;
  if (!s.ok()) {
    end.op = static_cast<std::uint8_t>(proto::Op::abort);
    (void)dest.value()->call(end);
    return FileOps::error_frame(Status(s.code(), "copy to " + to->to_string() + ": " + s.message()));
  }
  end.op = static_cast<std::uint8_t>(proto::Op::commit);
  end.length = size;
  end.flags = proto::kTruncate;
  auto committed = dest.value()->call(end);
  if (!committed.ok()) return FileOps::error_frame(committed.status());
  proto::Response out;
  out.size = committed->head.size;
  return FileOps::response_frame(out);
}

void FttpServer::write_metrics(core::MetricsWriter& out) const {
  core::write_process_metrics(out, "fttp", core::build_version(), core::build_commit());
  out.gauge("fourinone_fttp_roots", "Roots this server exposes (FTTP/ROOTS).", static_cast<double>(settings_.roots.size()));
  out.counter("fourinone_fttp_requests_total", "File requests received.", requests_);
  core::write_net_metrics(out, *net_stats_);
}

}  // namespace fourinone::fileops
