#include "tests/support/tcp_relay.hpp"

#include <array>
#include <list>

#include "core/asio.hpp"

namespace fourinone::test {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// One relayed connection: two sockets and a pump each way.
struct Link : std::enable_shared_from_this<Link> {
  explicit Link(asio::io_context& io) : client(io), server(io) {}
  tcp::socket client;
  tcp::socket server;
  std::array<char, 64 * 1024> up{};
  std::array<char, 64 * 1024> down{};

  void start() {
    pump(client, server, up);
    pump(server, client, down);
  }
  void close() {
    boost::system::error_code ignored;
    client.close(ignored);
    server.close(ignored);
  }
  void pump(tcp::socket& from, tcp::socket& to, std::array<char, 64 * 1024>& buffer) {
    auto self = shared_from_this();
    from.async_read_some(asio::buffer(buffer), [self, &from, &to, &buffer](boost::system::error_code ec, std::size_t n) {
      if (ec) return self->close();
      asio::async_write(to, asio::buffer(buffer.data(), n), [self, &from, &to, &buffer](boost::system::error_code ec2, std::size_t) {
        if (ec2) return self->close();
        self->pump(from, to, buffer);
      });
    });
  }
};

}  // namespace

struct TcpRelay::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::uint16_t target = 0;
  std::list<std::weak_ptr<Link>> links;
  std::thread thread;
  const std::atomic<bool>* blocked = nullptr;

  void accept() {
    auto link = std::make_shared<Link>(io);
    acceptor.async_accept(link->client, [this, link](boost::system::error_code ec) {
      if (ec) return;
      if (blocked->load()) {
        link->close();
      } else {
        link->server.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), target),
                                   [link](boost::system::error_code ec2) {
                                     if (ec2) return link->close();
                                     link->start();
                                   });
        links.remove_if([](const std::weak_ptr<Link>& w) { return w.expired(); });
        links.push_back(link);
      }
      accept();
    });
  }
};

TcpRelay::TcpRelay(std::uint16_t target_port) : impl_(std::make_unique<Impl>()) {
  impl_->target = target_port;
  impl_->blocked = &blocked_;
  tcp::endpoint endpoint(asio::ip::address_v4::loopback(), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

TcpRelay::~TcpRelay() {
  asio::post(impl_->io, [this] {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    for (auto& w : impl_->links) {
      if (auto link = w.lock()) link->close();
    }
    impl_->io.stop();
  });
  if (impl_->thread.joinable()) impl_->thread.join();
}

void TcpRelay::set_blocked(bool blocked) {
  blocked_ = blocked;
  if (!blocked) return;
  std::atomic<bool> done{false};
  asio::post(impl_->io, [this, &done] {
    for (auto& w : impl_->links) {
      if (auto link = w.lock()) link->close();
    }
    impl_->links.clear();
    done = true;
  });
  while (!done.load()) std::this_thread::yield();
}

}  // namespace fourinone::test
