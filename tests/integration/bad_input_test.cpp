// Garbage on the wire: every case gets a clear error, the server keeps serving, and stored
// data is untouched.
#include <doctest/doctest.h>

#include "core/asio.hpp"

#include "core/frame.hpp"
#include "core/status_serialize.hpp"
#include "core/wire_archive.hpp"
#include "park/protocol/messages.hpp"
#include "tests/support/park_fixture.hpp"

using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::tcp;
using fourinone::Errc;
using fourinone::Status;
using namespace fourinone::core;
using fourinone::test::RunningPark;

namespace {

struct RawConnection {
  asio::io_context io;
  tcp::socket socket{io};

  explicit RawConnection(std::uint16_t port) {
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  void send(const std::string& bytes) { asio::write(socket, asio::buffer(bytes)); }
  void hello() {
    send(make_frame(FrameType::hello, 0, encode(HelloRequest{42, "", "nonce"})));
    auto [header, body] = read_frame();
    REQUIRE(header.type == FrameType::hello_reply);
  }
  // Reads one frame; the header type is `error` with id 0 when the connection just closed.
  std::pair<FrameHeader, std::string> read_frame() {
    char head[kFrameHeaderSize];
    boost::system::error_code ec;
    asio::read(socket, asio::buffer(head), ec);
    if (ec) return {FrameHeader{0, 0, FrameType::error, 0, 0}, ""};
    auto header = decode_header(head);
    std::string body(header.body_length, '\0');
    asio::read(socket, asio::buffer(body), ec);
    return {header, body};
  }
  Status read_error() {
    auto [header, body] = read_frame();
    if (header.type != FrameType::error || header.magic == 0) return Status(Errc::internal, "no error frame");
    Status status;
    Status decoded = decode(body, status, "error");
    return decoded.ok() ? status : decoded;
  }
  bool closed_by_peer() {
    char byte;
    boost::system::error_code ec;
    socket.read_some(asio::buffer(&byte, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
};

void expect_still_serving(RunningPark& park) {
  auto p = park.connect();
  auto node = p->get("keep", "me");
  REQUIRE(node.ok());
  CHECK(node->value == "safe");
  CHECK(node->version == 1);
}

}  // namespace

TEST_CASE("garbage bytes get a bad-magic error and the server keeps serving") {
  RunningPark park;
  REQUIRE(park.connect()->create("keep", "me", "safe").ok());
  RawConnection raw(park.config.port);
  raw.send(std::string(64, '\x5a'));
  auto error = raw.read_error();
  CHECK(error.code() == Errc::bad_request);
  CHECK(error.message().find("magic") != std::string::npos);
  CHECK(raw.closed_by_peer());
  expect_still_serving(park);
}

TEST_CASE("a wrong protocol version is refused with a message naming both versions") {
  RunningPark park;
  REQUIRE(park.connect()->create("keep", "me", "safe").ok());
  RawConnection raw(park.config.port);
  std::string frame = make_frame(FrameType::hello, 0, encode(HelloRequest{1, "", "n"}));
  frame[5] = 9;  // version 9
  raw.send(frame);
  auto error = raw.read_error();
  CHECK(error.code() == Errc::bad_request);
  CHECK(error.message().find("version 9") != std::string::npos);
  expect_still_serving(park);
}

TEST_CASE("an oversize frame is refused before its body is read") {
  RunningPark park(RunningPark::Settings{{"MAXVALUE", "1M"}});
  REQUIRE(park.connect()->create("keep", "me", "safe").ok());
  RawConnection raw(park.config.port);
  raw.hello();
  char head[kFrameHeaderSize];
  encode_header(FrameHeader{kFrameMagic, kProtocolVersion, FrameType::request, 7, 0xFFFFFFF0u}, head);
  raw.send(std::string(head, sizeof head));  // no body follows: the server must not wait for 4 GB
  auto error = raw.read_error();
  CHECK(error.code() == Errc::too_large);
  expect_still_serving(park);
}

TEST_CASE("a request before the hello is refused") {
  RunningPark park;
  REQUIRE(park.connect()->create("keep", "me", "safe").ok());
  RawConnection raw(park.config.port);
  raw.send(make_frame(FrameType::request, 1, "whatever"));
  CHECK(raw.read_error().code() == Errc::unauthenticated);
  expect_still_serving(park);
}

TEST_CASE("a garbage or truncated request body gets bad_request and changes nothing") {
  RunningPark park;
  REQUIRE(park.connect()->create("keep", "me", "safe").ok());
  {
    RawConnection raw(park.config.port);
    raw.hello();
    raw.send(make_frame(FrameType::request, 5, std::string("\xff\xff\xff\xff\xff\xff\xff\xff\x01\x02", 10)));
    auto [header, body] = raw.read_frame();
    CHECK(header.type == FrameType::error);
    CHECK(header.id == 5);
    CHECK(raw.closed_by_peer());
  }
  {
    // A real update request cut short: must not half-apply.
    RawConnection raw(park.config.port);
    raw.hello();
    fourinone::park::proto::WriteRequest w;
    fourinone::park::Op op;
    op.kind = fourinone::park::OpKind::update;
    op.domain = "keep";
    op.node = "me";
    op.value = "overwritten";
    w.ops.push_back(op);
    w.seq = 1;
    std::string body = encode(fourinone::park::proto::Request(w));
    raw.send(make_frame(FrameType::request, 6, body.substr(0, body.size() - 4)));
    auto [header, reply] = raw.read_frame();
    CHECK(header.type == FrameType::error);
  }
  {
    // A length field far beyond the body must not allocate it.
    RawConnection raw(park.config.port);
    raw.hello();
    std::string body;
    body.append(4, '\0');  // variant index (int32): WriteRequest
    body.push_back(1);      // kind: txn
    body.append(8, '\0');  // seq
    body.append(8, '\0');  // acked_below
    std::uint64_t huge = 1ull << 40;
    body.append(reinterpret_cast<const char*>(&huge), 8);  // ops count
    raw.send(make_frame(FrameType::request, 7, body));
    auto [header, reply] = raw.read_frame();
    CHECK(header.type == FrameType::error);
  }
  expect_still_serving(park);
}
