// One-way requests (id 0, RpcClient::notify): the server handles them and never answers, so a
// stream of them costs no frames back (park servers send their Raft messages this way).
#include <cereal/types/string.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/framed_socket.hpp"
#include "core/rpc_client.hpp"
#include "core/rpc_server.hpp"
#include "core/wire_archive.hpp"

using namespace fourinone;
using namespace fourinone::core;
using namespace std::chrono_literals;

namespace {

// Answers every request with its own body, and remembers the ids it saw.
class EchoHandler : public RpcHandler {
 public:
  void on_request(const RpcConnectionPtr& connection, std::uint64_t id, std::string_view body) override {
    seen.emplace_back(id, std::string(body));
    connection->reply(id, body);
  }
  std::vector<std::pair<std::uint64_t, std::string>> seen;
};

struct EchoServer {
  asio::io_context io;
  EchoHandler handler;
  RpcServer server{io, handler, RpcServerOptions{"test", kDefaultMaxFrame, {}, 5000ms}};
  std::thread thread;
  EchoServer() {
    REQUIRE(server.listen("127.0.0.1", 0).ok());
    thread = std::thread([this] {
      auto guard = asio::make_work_guard(io);
      io.run();
    });
  }
  ~EchoServer() {
    io.stop();
    thread.join();
  }
};

}  // namespace

TEST_CASE("a one-way request reaches the handler with id 0 and gets no response frame") {
  EchoServer echo;
  asio::io_context io;
  tcp::socket raw(io);
  raw.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), echo.server.port()));
  auto socket = std::make_shared<FramedSocket>(std::move(raw), kDefaultMaxFrame);
  std::vector<std::pair<FrameType, std::uint64_t>> frames;
  socket->start(
      [&](const FrameHeader& header, std::string_view) {
        frames.emplace_back(header.type, header.id);
        if (header.type == FrameType::hello_reply) {
          // Handshake done: a one-way request, then an ordinary one. The server handles them in
          // order; had it answered the first, that answer would arrive first.
          socket->send(make_frame(FrameType::request, 0, "one-way"));
          socket->send(make_frame(FrameType::request, 7, "answered"));
        }
        if (header.type == FrameType::response) socket->close(Status(Errc::cancelled, "done"));
      },
      [&](const Status&) { io.stop(); });
  socket->send(make_frame(FrameType::hello, 0, encode(HelloRequest{1, "", "nonce-nonce-nonce!"})));
  io.run_for(5s);

  REQUIRE(frames.size() == 2);
  CHECK(frames[0].first == FrameType::hello_reply);
  CHECK(frames[1].first == FrameType::response);
  CHECK(frames[1].second == 7u);
  std::promise<std::vector<std::pair<std::uint64_t, std::string>>> seen;
  asio::post(echo.io, [&] { seen.set_value(echo.handler.seen); });
  auto got = seen.get_future().get();
  REQUIRE(got.size() == 2);
  CHECK(got[0] == std::make_pair(std::uint64_t{0}, std::string("one-way")));
  CHECK(got[1] == std::make_pair(std::uint64_t{7}, std::string("answered")));
}

TEST_CASE("RpcClient::notify sends one-way requests in order with calls, and refuses when not connected") {
  EchoServer echo;
  asio::io_context io;
  std::shared_ptr<RpcClient> client;
  RpcClient::connect(io, ServerAddress{"127.0.0.1", echo.server.port()}, RpcClientOptions{},
                     [&](Result<std::shared_ptr<RpcClient>> r) {
                       REQUIRE(r.ok());
                       client = r.value();
                       CHECK(client->notify("first"));
                       CHECK(client->notify("second"));
                       client->call("third", RpcClient::Clock::now() + 5s, [&](Result<std::string> answer) {
                         REQUIRE(answer.ok());
                         CHECK(answer.value() == "third");
                         CHECK(client->pending() == 0u);
                         client->close();
                       });
                     });
  io.run_for(5s);
  REQUIRE(client);
  CHECK_FALSE(client->notify("after close"));
  std::promise<std::vector<std::pair<std::uint64_t, std::string>>> seen;
  asio::post(echo.io, [&] { seen.set_value(echo.handler.seen); });
  auto got = seen.get_future().get();
  REQUIRE(got.size() == 3);
  CHECK(got[0].first == 0u);
  CHECK(got[0].second == "first");
  CHECK(got[1].first == 0u);
  CHECK(got[2].second == "third");
  CHECK(got[2].first != 0u);
}
