// FileOps without sockets: requests in, response frames out, against a real temporary root.
// Two-phase writes, ranges and file identity, and the body decoder's refusals.
#include <doctest/doctest.h>

#include <filesystem>
#include <random>

#include "core/frame.hpp"
#include "fileops/client/connection.hpp"
#include "fileops/server/file_ops.hpp"
#include "tests/support/process.hpp"

using fourinone::Errc;
namespace fileops = fourinone::fileops;
namespace proto = fourinone::fileops::proto;
using fourinone::test::read_file;
using fourinone::test::write_file;

namespace {

struct Ops {
  fourinone::test::TempDir dir;
  fileops::FileOps ops;
  const int owner = 0;  // stands for a connection
  Ops() : ops(roots(dir), 1 << 20, 17 << 20) {}
  static std::vector<fileops::RootFs> roots(const fourinone::test::TempDir& dir) {
    std::vector<fileops::RootFs> out;
    out.push_back(fileops::RootFs::open({"data", dir.file("data"), false}).value());
    return out;
  }
  std::string path(const std::string& rel) const { return dir.file("data/" + rel); }
  fourinone::Result<fileops::Reply> run(proto::Op op, const std::string& rel, std::string_view data = {},
                                        std::uint64_t offset = 0, std::uint64_t length = 0, std::uint64_t handle = 0,
                                        std::uint8_t flags = 0) {
    proto::Request r;
    r.op = static_cast<std::uint8_t>(op);
    r.root = "data";
    r.path = rel;
    r.offset = offset;
    r.length = length;
    r.handle = handle;
    r.flags = flags;
    std::string frame = ops.handle(r, data, &owner);
    return fileops::parse_reply(frame.substr(fourinone::core::kFrameHeaderSize));
  }
  std::size_t files() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.file("data"))) ++n;
    return n;
  }
};

}  // namespace

TEST_CASE("FileOps: a two-phase write shows nothing until commit and commit replaces the file whole") {
  Ops o;
  write_file(o.path("f"), "old");
  auto opened = o.run(proto::Op::open_write, "f", {}, 0, 10);
  REQUIRE(opened.ok());
  std::uint64_t handle = opened->head.handle;
  CHECK(handle != 0);
  REQUIRE(o.run(proto::Op::write, "f", "world", 5, 0, handle).ok());  // blocks in any order
  REQUIRE(o.run(proto::Op::write, "f", "hello", 0, 0, handle).ok());
  CHECK(read_file(o.path("f")) == "old");
  CHECK(o.files() == 2);  // the file and the temporary one
  auto committed = o.run(proto::Op::commit, "f", {}, 0, 10, handle, proto::kTruncate);
  REQUIRE(committed.ok());
  CHECK(committed->head.size == 10);
  CHECK(read_file(o.path("f")) == "helloworld");
  CHECK(o.files() == 1);
  CHECK(o.run(proto::Op::commit, "f", {}, 0, 10, handle).status().code() == Errc::not_found);  // once only
}

TEST_CASE("FileOps: abort and the owner's departure leave the old file; exclusive refuses a taken name") {
  Ops o;
  write_file(o.path("f"), "old");
  auto a = o.run(proto::Op::open_write, "f");
  REQUIRE(a.ok());
  REQUIRE(o.run(proto::Op::write, "f", "new", 0, 0, a->head.handle).ok());
  REQUIRE(o.run(proto::Op::abort, "f", {}, 0, 0, a->head.handle).ok());
  auto b = o.run(proto::Op::open_write, "g");
  REQUIRE(b.ok());
  CHECK(o.ops.pending().abort_owned_by(&o.owner) == 1);
  CHECK(o.run(proto::Op::write, "g", "x", 0, 0, b->head.handle).status().code() == Errc::not_found);
  CHECK(read_file(o.path("f")) == "old");
  CHECK_FALSE(std::filesystem::exists(o.path("g")));
  CHECK(o.files() == 1);
  CHECK(o.run(proto::Op::open_write, "f", {}, 0, 0, 0, proto::kExclusive).status().code() == Errc::exists);
  // The name taken between open and commit: the exclusive commit refuses and cleans up.
  auto c = o.run(proto::Op::open_write, "h", {}, 0, 0, 0, proto::kExclusive);
  REQUIRE(c.ok());
  write_file(o.path("h"), "someone else");
  CHECK(o.run(proto::Op::commit, "h", {}, 0, 0, c->head.handle, proto::kTruncate).status().code() == Errc::exists);
  CHECK(read_file(o.path("h")) == "someone else");
  CHECK(o.files() == 2);
}

TEST_CASE("FileOps: reads name the file's identity, which a replacement changes") {
  Ops o;
  write_file(o.path("f"), "0123456789");
  auto first = o.run(proto::Op::read, "f", {}, 2, 3);
  REQUIRE(first.ok());
  CHECK(first->data() == "234");
  CHECK(first->head.size == 10);
  std::uint64_t identity = first->head.handle;
  CHECK(o.run(proto::Op::read, "f", {}, 5, 100, identity)->data() == "56789");
  auto w = o.run(proto::Op::open_write, "f");
  REQUIRE(o.run(proto::Op::write, "f", "abcdefghij", 0, 0, w->head.handle).ok());
  REQUIRE(o.run(proto::Op::commit, "f", {}, 0, 10, w->head.handle, proto::kTruncate).ok());
  CHECK(o.run(proto::Op::read, "f", {}, 5, 5, identity).status().code() == Errc::bad_version);
  CHECK(o.run(proto::Op::read, "f", {}, 11, 1).status().code() == Errc::bad_request);
  CHECK(o.run(proto::Op::read, "f", {}, 0, 2 << 20).status().code() == Errc::too_large);  // above max_data
  CHECK(o.run(proto::Op::stat, "f", "data?").status().code() == Errc::bad_request);     // only writes carry data
}

TEST_CASE("decode_body refuses truncated, padded and random bodies without crashing") {
  proto::Request r;
  r.op = 6;
  r.root = "data";
  r.path = "a/b";
  std::string body;
  proto::encode_body(body, r, "payload");
  proto::Request out;
  std::string_view data;
  REQUIRE(proto::decode_body(body, out, data, "req").ok());
  CHECK(out.path == "a/b");
  CHECK(data == "payload");
  for (std::size_t cut = 0; cut < body.size(); ++cut) {
    CHECK(proto::decode_body(std::string_view(body).substr(0, cut), out, data, "req").code() == Errc::bad_request);
  }
  CHECK(proto::decode_body(body + "x", out, data, "req").code() == Errc::bad_request);
  std::mt19937 rng(5);
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 200, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    (void)proto::decode_body(junk, out, data, "req");  // must not crash or allocate wildly
  }
}
