// What a file server refuses and what it never loses, with real processes: escape attempts
// sent over the wire by hand (the library would refuse them before sending), read-only
// roots, a client killed in the middle of a two-phase write, a full disk (RLIMIT_FSIZE on
// the server process), and logins when PARK/USERS is set.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <future>

#include "core/auth.hpp"
#include "core/frame.hpp"
#include "fileops/client/connection.hpp"
#include "fourinone/fileops.hpp"
#include "tests/support/fttp_cluster.hpp"

using namespace std::chrono_literals;
using fourinone::Errc;
using fourinone::test::FttpCluster;
using fourinone::test::Process;
using fourinone::test::read_file;
using fourinone::test::wait_until;
using fourinone::test::write_file;
namespace fileops = fourinone::fileops;
namespace proto = fourinone::fileops::proto;

namespace {

std::unique_ptr<fileops::FttpConnection> raw_connection(const FttpCluster& cluster, std::size_t i) {
  fileops::ConnectionOptions options;
  auto address = fourinone::parse_server_address(cluster.address(i));
  auto c = fileops::FttpConnection::open(address.value(), options);
  REQUIRE_MESSAGE(c.ok(), c.status().to_string());
  return std::move(c).value();
}

std::size_t temp_files(const std::string& folder) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(folder)) {
    if (e.path().filename().string().rfind(".fttp-", 0) == 0) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("fttp over the wire: every escape attempt is refused with a clear error and nothing outside changes") {
  FttpCluster cluster(FttpCluster::Settings{1});
  REQUIRE(cluster.start_all());
  std::string root = cluster.folder(0, "data");
  write_file(cluster.dir().file("outside.txt"), "secret");
  REQUIRE(::symlink("../../outside.txt", (root + "/up_link").c_str()) == 0);
  REQUIRE(::symlink("/etc", (root + "/etc_link").c_str()) == 0);
  REQUIRE(::symlink("../..", (root + "/dir_link").c_str()) == 0);
  REQUIRE(::mkfifo((root + "/fifo").c_str(), 0644) == 0);
  REQUIRE(::symlink("/dev/zero", (root + "/dev_link").c_str()) == 0);
  auto c = raw_connection(cluster, 0);

  struct Attempt {
    proto::Op op;
    std::string root;
    std::string path;
    Errc code;
    std::string says;
  };
  std::vector<Attempt> attempts{
      {proto::Op::read, "data", "../../outside.txt", Errc::no_permission, "'..'"},
      {proto::Op::read, "data", "a/../../outside.txt", Errc::no_permission, "'..'"},
      {proto::Op::read, "data", "/etc/passwd", Errc::no_permission, "absolute"},
      {proto::Op::read, "data", "up_link", Errc::no_permission, "out of its root"},
      {proto::Op::read, "data", "etc_link/passwd", Errc::no_permission, "out of its root"},
      {proto::Op::stat, "data", "dir_link/outside.txt", Errc::no_permission, "out of its root"},
      {proto::Op::list, "data", "dir_link", Errc::no_permission, "out of its root"},
      {proto::Op::list, "data", "etc_link", Errc::no_permission, "out of its root"},
      {proto::Op::read, "data", "fifo", Errc::no_permission, "fifo"},
      {proto::Op::read, "data", "dev_link", Errc::no_permission, "out of its root"},
      {proto::Op::read, "data", std::string("a\0b", 3), Errc::bad_request, "control"},
      {proto::Op::read, "data", std::string(300, 'n'), Errc::bad_request, "255"},
      {proto::Op::read, "data", std::string(5000, 'p'), Errc::bad_request, "4095"},
      {proto::Op::read, "..", "outside.txt", Errc::not_found, "no root named"},
      {proto::Op::read, "", "outside.txt", Errc::not_found, "no root named"},
      {proto::Op::write, "data", "dir_link/outside.txt", Errc::no_permission, "out of its root"},
      {proto::Op::write, "data", "../x", Errc::no_permission, "'..'"},
      {proto::Op::open_write, "data", "dir_link/outside.txt", Errc::no_permission, "out of its root"},
      {proto::Op::mkdir, "data", "dir_link/newdir", Errc::no_permission, "out of its root"},
      {proto::Op::remove, "data", "dir_link/outside.txt", Errc::no_permission, "out of its root"},
      {proto::Op::remove, "data", "..", Errc::no_permission, "'..'"},
      {proto::Op::open_write, "data", "fifo", Errc::no_permission, "fifo"},
  };
  for (const auto& a : attempts) {
    INFO("op " << static_cast<int>(a.op) << " " << a.root << "/" << a.path.substr(0, 40));
    proto::Request r;
    r.op = static_cast<std::uint8_t>(a.op);
    r.root = a.root;
    r.path = a.path;
    r.length = 10;
    r.flags = proto::kCreate;
    auto reply = c->call(r, a.op == proto::Op::write ? "pwned" : "");
    REQUIRE_FALSE(reply.ok());
    CHECK(reply.status().code() == a.code);
    CHECK(reply.status().message().find(a.says) != std::string::npos);
  }
  proto::Request rename;
  rename.op = static_cast<std::uint8_t>(proto::Op::rename);
  rename.root = "data";
  rename.path = "up_link";
  rename.path2 = "../../stolen";
  CHECK(c->call(rename).status().code() == Errc::no_permission);
  // Nothing outside the root changed, the link itself is still there, the server still serves.
  CHECK(read_file(cluster.dir().file("outside.txt")) == "secret");
  CHECK_FALSE(std::filesystem::exists(cluster.dir().file("stolen")));
  CHECK_FALSE(std::filesystem::exists(cluster.dir().file("newdir")));
  CHECK(std::filesystem::is_symlink(root + "/up_link"));
  CHECK(c->is_open());
  auto f = cluster.connect();
  CHECK(f->list(cluster.url(0, "data", "")).ok());
  // Removing a link that leads out removes the link, never what it points to.
  REQUIRE(f->remove(cluster.url(0, "data", "up_link")).ok());
  CHECK(read_file(cluster.dir().file("outside.txt")) == "secret");
}

TEST_CASE("fttp: a garbage request closes its connection with bad_request and the server serves on") {
  FttpCluster cluster(FttpCluster::Settings{1});
  REQUIRE(cluster.start_all());
  auto c = raw_connection(cluster, 0);
  std::string frame = fourinone::core::frame_buffer();
  frame += "\x06garbage that is no request";
  std::promise<fourinone::Status> answer;
  c->async_call_frame(frame, [&](fourinone::Result<fileops::Reply> r) { answer.set_value(r.status()); });
  auto status = answer.get_future().get();
  CHECK(status.code() == Errc::bad_request);
  CHECK(wait_until([&] { return !c->is_open(); }, 5s));
  auto f = cluster.connect();
  CHECK(f->write_file(cluster.url(0, "data", "after.txt"), "fine").ok());
  CHECK(f->read_file(cluster.url(0, "data", "after.txt")).value() == "fine");
}

TEST_CASE("fttp: a read-only root refuses every change and still reads") {
  FttpCluster cluster(FttpCluster::Settings{1});
  REQUIRE(cluster.start_all());
  write_file(cluster.folder(0, "ro") + "/r.txt", "read me");
  auto f = cluster.connect();
  CHECK(f->read_file(cluster.url(0, "ro", "r.txt")).value() == "read me");
  for (Errc code : {f->write_file(cluster.url(0, "ro", "r.txt"), "x").code(),
                    f->write(cluster.url(0, "ro", "r.txt"), 0, "x").code(),
                    f->remove(cluster.url(0, "ro", "r.txt")).code(), f->mkdir(cluster.url(0, "ro", "d")).code(),
                    f->rename(cluster.url(0, "ro", "r.txt"), cluster.url(0, "ro", "s.txt")).code(),
                    f->open_writer(cluster.url(0, "ro", "n")).status().code()}) {
    CHECK(code == Errc::no_permission);
  }
  auto s = f->write_file(cluster.url(0, "ro", "r.txt"), "x");
  CHECK(s.message().find("read-only") != std::string::npos);
  CHECK(read_file(cluster.folder(0, "ro") + "/r.txt") == "read me");
}

TEST_CASE("fttp: a client killed in the middle of a two-phase write leaves the old file and no partial one") {
  FttpCluster cluster(FttpCluster::Settings{1});
  REQUIRE(cluster.start_all());
  std::string folder = cluster.folder(0, "data");
  write_file(folder + "/target.txt", "old content");
  auto f = cluster.connect();
  for (const char* name : {"target.txt", "fresh.txt"}) {
    INFO(name);
    auto url = cluster.url(0, "data", name);
    Process writer({FOURINONE_TEST_FTTP_WRITER, url.to_string(), "300000"}, cluster.dir().file("writer"));
    // The temporary file holds everything sent, and the client is still there.
    REQUIRE_MESSAGE(wait_until(
                        [&] {
                          for (const auto& e : std::filesystem::directory_iterator(folder)) {
                            if (e.path().filename().string().rfind(".fttp-", 0) == 0 && e.file_size() == 300000) {
                              return true;
                            }
                          }
                          return false;
                        },
                        10s),
                    writer.err());
    // A reader meanwhile sees the old file whole (or none).
    if (std::string(name) == "target.txt") {
      CHECK(f->read_file(url).value() == "old content");
    } else {
      CHECK(f->stat(url).status().code() == Errc::not_found);
    }
    writer.signal(SIGKILL);
    writer.wait(5s);
    CHECK(wait_until([&] { return temp_files(folder) == 0; }, 10s));
    if (std::string(name) == "target.txt") {
      CHECK(read_file(folder + "/target.txt") == "old content");
    } else {
      CHECK_FALSE(std::filesystem::exists(folder + "/fresh.txt"));
    }
  }
}

TEST_CASE("fttp: a full disk (RLIMIT_FSIZE) fails the write with a clear error and keeps the old file") {
  FttpCluster::Settings settings;
  settings.servers = 1;
  settings.fsize_limit_kib = "128";  // the server may not write a file past 128 KiB
  FttpCluster cluster(settings);
  REQUIRE(cluster.start_all());
  std::string folder = cluster.folder(0, "data");
  auto f = cluster.connect();
  auto url = cluster.url(0, "data", "full.bin");
  REQUIRE(f->write_file(url, std::string(1000, 'o')).ok());

  // Known size: refused before any byte travels (the space is claimed first).
  auto whole = f->write_file(url, std::string(400'000, 'x'));
  CHECK(whole.code() == Errc::too_large);
  CHECK(whole.message().find("data/full.bin") != std::string::npos);
  // Unknown size (appends): refused when the limit is met, at commit at the latest.
  auto writer = f->open_writer(url);
  REQUIRE(writer.ok());
  for (int i = 0; i < 10; ++i) (void)writer.value()->append(std::string(40'000, 'y'));
  auto committed = writer.value()->commit();
  CHECK(committed.status().code() == Errc::too_large);
  // Upload of a local file too.
  write_file(cluster.dir().file("big.local"), std::string(300'000, 'z'));
  CHECK(f->upload(cluster.dir().file("big.local"), url).status().code() == Errc::too_large);

  CHECK(read_file(folder + "/full.bin") == std::string(1000, 'o'));
  CHECK(wait_until([&] { return temp_files(folder) == 0; }, 5s));
  CHECK(f->write_file(url, "still works").ok());  // the server is alive and well
  CHECK(read_file(folder + "/full.bin") == "still works");
}

TEST_CASE("fttp: with users configured the file server wants the park's logins") {
  FttpCluster::Settings settings;
  settings.servers = 2;
  settings.users = fourinone::core::format_user_entry(fourinone::core::make_user_entry("alice", "wonderland", 1000));
  FttpCluster cluster(settings);
  REQUIRE(cluster.start_park());
  // The servers log in to the park (registration) and to each other (copy) as alice.
  ::setenv("FOURINONE_USER", "alice", 1);
  ::setenv("FOURINONE_PASSWORD", "wonderland", 1);
  bool started = cluster.start(0) && cluster.start(1);
  ::unsetenv("FOURINONE_USER");
  ::unsetenv("FOURINONE_PASSWORD");
  REQUIRE(started);

  auto anonymous = cluster.connect();
  CHECK(anonymous->list(cluster.url(0, "", "")).status().code() == Errc::unauthenticated);
  auto options = cluster.options();
  options.user = "alice";
  options.password = "wrong";
  CHECK(fourinone::Fttp::connect(options).value()->list(cluster.url(0, "", "")).status().code() ==
        Errc::unauthenticated);
  options.password = "wonderland";
  auto alice = fourinone::Fttp::connect(options).value();
  REQUIRE(alice->write_file(cluster.url(0, "data", "a.txt"), "for alice").ok());
  CHECK(alice->read_file(cluster.url(0, "data", "a.txt")).value() == "for alice");
  auto copied = alice->copy(cluster.url(0, "data", "a.txt"), cluster.url(1, "data", "a.txt"));
  CHECK_MESSAGE(copied.ok(), copied.status().to_string());
  CHECK(read_file(cluster.folder(1, "data") + "/a.txt") == "for alice");
}
