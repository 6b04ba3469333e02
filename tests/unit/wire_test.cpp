// Frames and the bounded wire archive: round trips, and every way a hostile body can fail.
#include <doctest/doctest.h>

#include <random>

#include "core/frame.hpp"
#include "core/wire_archive.hpp"
#include "park/protocol/messages.hpp"

using namespace fourinone;
using namespace fourinone::core;

TEST_CASE("a frame header round-trips and is big-endian on the wire") {
  FrameHeader h{kFrameMagic, kProtocolVersion, FrameType::push, 0x0102030405060708ull, 513};
  char buf[kFrameHeaderSize];
  encode_header(h, buf);
  CHECK(static_cast<unsigned char>(buf[0]) == 0x46);
  CHECK(static_cast<unsigned char>(buf[8]) == 0x01);
  CHECK(static_cast<unsigned char>(buf[15]) == 0x08);
  auto back = decode_header(buf);
  CHECK(back.magic == h.magic);
  CHECK(back.type == FrameType::push);
  CHECK(back.id == h.id);
  CHECK(back.body_length == 513);
  CHECK(check_header(back, 1024).ok());
}

TEST_CASE("check_header refuses bad magic, other versions, unknown types and oversize bodies") {
  FrameHeader h;
  h.magic = 0xdeadbeef;
  CHECK(check_header(h, 100).code() == Errc::bad_request);
  h = FrameHeader{};
  h.version = 2;
  CHECK(check_header(h, 100).message().find("version 2") != std::string::npos);
  h = FrameHeader{};
  h.type = static_cast<FrameType>(99);
  CHECK(check_header(h, 100).code() == Errc::bad_request);
  h = FrameHeader{};
  h.body_length = 101;
  CHECK(check_header(h, 100).code() == Errc::too_large);
}

TEST_CASE("a request round-trips through the wire archive") {
  park::proto::WriteRequest w;
  w.seq = 7;
  w.acked_below = 3;
  park::Op op;
  op.kind = park::OpKind::create;
  op.domain = "d";
  op.node = "n";
  op.value = std::string("\0bytes\xff", 7);
  op.policy = Policy::read_write;
  op.heartbeat = true;
  op.ttl_ms = 1234;
  w.ops.push_back(op);
  std::string bytes = encode(park::proto::Request(w));
  park::proto::Request back;
  REQUIRE(decode(bytes, back, "request").ok());
  auto& w2 = std::get<park::proto::WriteRequest>(back);
  CHECK(w2.seq == 7);
  CHECK(w2.acked_below == 3);
  REQUIRE(w2.ops.size() == 1);
  CHECK(w2.ops[0].value == op.value);
  CHECK(w2.ops[0].policy == Policy::read_write);
  CHECK(w2.ops[0].heartbeat);
  CHECK(w2.ops[0].ttl_ms == 1234);
}

TEST_CASE("every truncation of a valid body fails to decode instead of half-decoding") {
  park::proto::Response r;
  r.status = Status(Errc::not_found, "gone");
  Node n;
  n.domain = "dom";
  n.name = "node";
  n.value = "value";
  r.nodes.push_back(n);
  std::string bytes = encode(r);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    park::proto::Response back;
    CHECK_MESSAGE(!decode(std::string_view(bytes).substr(0, cut), back, "response").ok(), "cut at " << cut);
  }
  park::proto::Response back;
  CHECK(!decode(bytes + "x", back, "response").ok());  // trailing garbage too
}

TEST_CASE("a length field larger than the body is refused before any allocation") {
  std::string bytes;
  std::uint64_t huge = 1ull << 60;
  bytes.append(reinterpret_cast<const char*>(&huge), 8);
  std::string s;
  auto status = decode(bytes, s, "string");
  CHECK(status.code() == Errc::bad_request);
  CHECK(status.message().find("exceeds") != std::string::npos);
  std::vector<Node> v;
  CHECK(!decode(bytes, v, "nodes").ok());
}

TEST_CASE("an unknown variant index or error code or bool byte is a decode error") {
  std::string bytes;
  std::int32_t index = 42;
  bytes.append(reinterpret_cast<const char*>(&index), 4);
  park::proto::Request r;
  CHECK(!decode(bytes, r, "request").ok());
  std::string status_bytes = encode(Status(Errc::exists, "x"));
  status_bytes[0] = static_cast<char>(200);
  Status s;
  CHECK(!decode(status_bytes, s, "status").ok());
  bool b = false;
  CHECK(!decode(std::string("\x02", 1), b, "bool").ok());
}

TEST_CASE("random garbage never crashes the request decoder") {
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    park::proto::Request r;
    (void)decode(bytes, r, "request");
  }
  CHECK(true);  // reaching here without a crash or a huge allocation is the assertion
}
