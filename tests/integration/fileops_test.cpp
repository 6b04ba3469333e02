// Remote files with real processes: a park and two `fourinone fttp` servers on loopback,
// every operation through the library (fourinone/fileops.hpp), with 64 KiB chunks so that a
// few hundred KiB travel as many parallel blocks.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <atomic>
#include <random>
#include <thread>

#include "fourinone/fileops.hpp"
#include "tests/support/fttp_cluster.hpp"

using namespace std::chrono_literals;
using fourinone::Errc;
using fourinone::FileType;
using fourinone::Fttp;
using fourinone::test::FttpCluster;
using fourinone::test::read_file;
using fourinone::test::wait_until;
using fourinone::test::write_file;

namespace {

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

}  // namespace

TEST_CASE("fttp: stat, list, mkdir, rename and remove on a live server") {
  FttpCluster cluster;
  REQUIRE(cluster.start_all());
  auto f = cluster.connect();

  auto roots = f->list(cluster.url(0, "", ""));
  REQUIRE_MESSAGE(roots.ok(), roots.status().to_string());
  REQUIRE(roots->size() == 2);
  CHECK(roots->at(0).name == "data");
  CHECK_FALSE(roots->at(0).read_only);
  CHECK(roots->at(1).name == "ro");
  CHECK(roots->at(1).read_only);

  REQUIRE(f->mkdir(cluster.url(0, "data", "a/b/c"), true).ok());
  CHECK(f->mkdir(cluster.url(0, "data", "a/b/c"), true).ok());  // -p: already there is fine
  CHECK(f->mkdir(cluster.url(0, "data", "a")).code() == Errc::exists);
  CHECK(f->mkdir(cluster.url(0, "data", "x/y")).code() == Errc::not_found);
  REQUIRE(f->write_file(cluster.url(0, "data", "a/one.txt"), "hello").ok());
  CHECK(read_file(cluster.folder(0, "data") + "/a/one.txt") == "hello");

  auto info = f->stat(cluster.url(0, "data", "a/one.txt"));
  REQUIRE(info.ok());
  CHECK(info->name == "one.txt");
  CHECK(info->type == FileType::file);
  CHECK(info->size == 5);
  CHECK(info->mode == 0644);
  CHECK(f->stat(cluster.url(0, "data", "a"))->type == FileType::folder);
  CHECK(f->stat(cluster.url(0, "data", ""))->name == "data");

  auto entries = f->list(cluster.url(0, "data", "a"));
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 2);
  CHECK(entries->at(0).name == "b");
  CHECK(entries->at(0).type == FileType::folder);
  CHECK(entries->at(1).name == "one.txt");
  CHECK(entries->at(1).size == 5);

  REQUIRE(f->rename(cluster.url(0, "data", "a/one.txt"), cluster.url(0, "data", "a/b/two.txt")).ok());
  CHECK(f->stat(cluster.url(0, "data", "a/one.txt")).status().code() == Errc::not_found);
  CHECK(f->read_file(cluster.url(0, "data", "a/b/two.txt")).value() == "hello");
  CHECK(f->rename(cluster.url(0, "data", "a/b/two.txt"), cluster.url(0, "ro", "x")).code() == Errc::bad_request);
  CHECK(f->rename(cluster.url(0, "data", "a/b/two.txt"), cluster.url(1, "data", "x")).code() == Errc::bad_request);

  auto not_empty = f->remove(cluster.url(0, "data", "a"));
  CHECK(not_empty.code() == Errc::bad_request);
  CHECK(not_empty.message().find("not empty") != std::string::npos);
  REQUIRE(f->remove(cluster.url(0, "data", "a/b/two.txt")).ok());
  CHECK(f->remove(cluster.url(0, "data", "a/b/two.txt")).code() == Errc::not_found);
  REQUIRE(f->remove(cluster.url(0, "data", "a"), true).ok());
  CHECK_FALSE(std::filesystem::exists(cluster.folder(0, "data") + "/a"));
  CHECK(f->remove(cluster.url(0, "data", "")).code() == Errc::no_permission);  // the root itself
}

TEST_CASE("fttp: byte ranges, range past the end and a missing file") {
  FttpCluster cluster;
  REQUIRE(cluster.start_all());
  auto f = cluster.connect();
  auto url = cluster.url(0, "data", "r.bin");
  REQUIRE(f->write(url, 0, "0123456789").ok());
  CHECK(f->read(url, 3, 4).value() == "3456");
  CHECK(f->read(url, 8, 100).value() == "89");   // short at the end
  CHECK(f->read(url, 10, 5).value().empty());     // exactly at the end
  auto past = f->read(url, 11, 1);
  CHECK(past.status().code() == Errc::bad_request);
  CHECK(past.status().message().find("past the end") != std::string::npos);
  REQUIRE(f->write(url, 5, "abcdefghij").ok());   // overwrite and grow
  CHECK(f->read_file(url).value() == "01234abcdefghij");
  auto hole = f->write(url, 100, "x");
  CHECK(hole.code() == Errc::bad_request);
  CHECK(hole.message().find("hole") != std::string::npos);
  REQUIRE(f->write(url, 2, "ZZ", false, true).ok());  // truncate after the write
  CHECK(read_file(cluster.folder(0, "data") + "/r.bin") == "01ZZ");
  auto missing = f->read_file(cluster.url(0, "data", "nope/none.txt"));
  CHECK(missing.status().code() == Errc::not_found);
  CHECK(missing.status().message().find("data/nope/none.txt") != std::string::npos);
  CHECK(f->write(cluster.url(0, "data", "none.txt"), 0, "x", false).code() == Errc::not_found);
  CHECK(f->read_file(cluster.url(0, "nosuchroot", "a")).status().code() == Errc::not_found);
}

TEST_CASE("fttp: a download into a fifo (or a device such as /dev/null) writes into it in order and leaves it one") {
  FttpCluster cluster;
  REQUIRE(cluster.start_all());
  auto f = cluster.connect();
  const std::string big = random_bytes(1'300'000, 11);  // 20 blocks over 3 connections: they arrive out of order
  REQUIRE(f->write_file(cluster.url(0, "data", "streamed.bin"), big).ok());

  const std::string fifo = cluster.dir().file("pipe");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string received;
  std::thread reader([&] {
    std::ifstream in(fifo, std::ios::binary);
    received.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  });
  auto down = f->download(cluster.url(0, "data", "streamed.bin"), fifo);
  reader.join();
  REQUIRE_MESSAGE(down.ok(), down.status().to_string());
  CHECK(down.value() == big.size());
  CHECK(received == big);
  struct stat st {};
  REQUIRE(::stat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));  // not renamed over by a regular file
  CHECK_FALSE(std::filesystem::exists(fifo + ".fttp-part"));

  // A device that seeks takes each block at its offset; it stays the device.
  auto to_null = f->download(cluster.url(0, "data", "streamed.bin"), "/dev/null");
  REQUIRE_MESSAGE(to_null.ok(), to_null.status().to_string());
  CHECK(to_null.value() == big.size());
  REQUIRE(::stat("/dev/null", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  CHECK_FALSE(std::filesystem::exists("/dev/null.fttp-part"));

  auto folder = f->download(cluster.url(0, "data", "streamed.bin"), cluster.dir().path());
  CHECK(folder.status().code() == Errc::bad_request);
}

TEST_CASE("fttp: large files in parallel blocks, in place and two-phase, and local upload/download") {
  FttpCluster cluster;
  REQUIRE(cluster.start_all());
  auto f = cluster.connect();
  const std::string big = random_bytes(1'300'000, 7);  // 20 blocks of 64 KiB and a tail

  auto two_phase = cluster.url(0, "data", "big/two_phase.bin");
  REQUIRE(f->mkdir(cluster.url(0, "data", "big")).ok());
  REQUIRE(f->write_file(two_phase, big).ok());
  CHECK(read_file(cluster.folder(0, "data") + "/big/two_phase.bin") == big);
  CHECK(f->read_file(two_phase).value() == big);
  CHECK(f->read(two_phase, 65'000, 400'000).value() == big.substr(65'000, 400'000));
  CHECK(f->write_file(two_phase, "other", true).code() == Errc::exists);  // exclusive
  CHECK(read_file(cluster.folder(0, "data") + "/big/two_phase.bin") == big);

  auto in_place = cluster.url(0, "data", "big/in_place.bin");
  REQUIRE(f->write(in_place, 0, big).ok());
  CHECK(read_file(cluster.folder(0, "data") + "/big/in_place.bin") == big);

  std::string local = cluster.dir().file("local.bin");
  write_file(local, big.substr(0, 777'777));
  auto up = f->upload(local, cluster.url(1, "data", "up.bin"));
  REQUIRE_MESSAGE(up.ok(), up.status().to_string());
  CHECK(up.value() == 777'777);
  CHECK(read_file(cluster.folder(1, "data") + "/up.bin") == big.substr(0, 777'777));
  std::string back = cluster.dir().file("back.bin");
  auto down = f->download(cluster.url(0, "data", "big/two_phase.bin"), back);
  REQUIRE(down.ok());
  CHECK(down.value() == big.size());
  CHECK(read_file(back) == big);
  CHECK(f->download(cluster.url(0, "data", "none"), back).status().code() == Errc::not_found);
  CHECK(read_file(back) == big);  // a failed download leaves the local file alone

  // A client whose chunk differs from the server's CHUNK (64 KiB here) works all the same.
  auto options = cluster.options();
  options.chunk = 1u << 20;
  auto wide = Fttp::connect(options).value();
  CHECK(wide->read_file(two_phase).value() == big);
  REQUIRE(wide->write_file(cluster.url(0, "data", "wide.bin"), big).ok());
  CHECK(read_file(cluster.folder(0, "data") + "/wide.bin") == big);

  // An empty file is a file too.
  REQUIRE(f->write_file(cluster.url(0, "data", "empty"), "").ok());
  CHECK(f->stat(cluster.url(0, "data", "empty"))->size == 0);
  CHECK(f->read_file(cluster.url(0, "data", "empty")).value().empty());
}

TEST_CASE("fttp: a writer's appends become visible only at commit and an abort leaves the old file") {
  FttpCluster cluster;
  REQUIRE(cluster.start_all());
  auto f = cluster.connect();
  auto url = cluster.url(0, "data", "w.txt");
  REQUIRE(f->write_file(url, "old").ok());
  auto writer = f->open_writer(url);
  REQUIRE(writer.ok());
  for (int i = 0; i < 50; ++i) REQUIRE(writer.value()->append(std::string(10'000, static_cast<char>('a' + i % 26))).ok());
  CHECK(f->read_file(url).value() == "old");  // a reader meanwhile sees the old file whole
  auto size = writer.value()->commit();
  REQUIRE(size.ok());
  CHECK(size.value() == 500'000);
  auto now = f->read_file(url).value();
  CHECK(now.size() == 500'000);
  CHECK(now.substr(0, 3) == "aaa");
  CHECK(writer.value()->append("more").code() == Errc::bad_request);

  auto second = f->open_writer(url);
  REQUIRE(second.ok());
  REQUIRE(second.value()->append("never seen").ok());
  second.value()->abort();
  CHECK(f->read_file(url).value().size() == 500'000);
  {
    auto dropped = f->open_writer(url);  // destroyed without commit: aborted
    REQUIRE(dropped.ok());
    REQUIRE(dropped.value()->append("never seen either").ok());
  }
  CHECK(f->read_file(url).value().size() == 500'000);
  auto names = f->list(cluster.url(0, "data", ""));
  REQUIRE(names.ok());
  CHECK(names->size() == 1);  // no temporary files left, and none shown
  CHECK(std::distance(std::filesystem::directory_iterator(cluster.folder(0, "data")), {}) == 1);
}

TEST_CASE("fttp: readers of a file being replaced over and over see one whole version each time") {
  FttpCluster cluster(FttpCluster::Settings{1});
  REQUIRE(cluster.start_all());
  auto url = cluster.url(0, "data", "flip.bin");
  const std::string a(700'000, 'a');  // 11 blocks
  const std::string b(500'000, 'b');  // 8 blocks
  auto writer_client = cluster.connect();
  REQUIRE(writer_client->write_file(url, a).ok());
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 40 && !done; ++i) (void)writer_client->write_file(url, i % 2 ? a : b);
    done = true;
  });
  auto f = cluster.connect();
  int reads = 0, torn = 0, failed = 0;
  for (int i = 0; !done; ++i) {
    // Whole reads, and records (one each here) read in spans of 384 KiB: both all of one version.
    fourinone::Result<std::string> got = std::string();
    if (i % 2 == 0) {
      got = f->read_file(url);
    } else {
      auto records = f->read_records(url, '\n');
      if (records.ok()) {
        got = records->size() == 1 ? records->front() : std::string("several records");
      } else {
        got = records.status();
      }
    }
    if (!got.ok()) {
      CHECK(got.status().code() == Errc::bad_version);  // replaced under the read (too often, or mid-records)
      ++failed;
      continue;
    }
    ++reads;
    if (got.value() != a && got.value() != b) ++torn;
  }
  writer.join();
  CHECK(torn == 0);
  CHECK(reads > 0);
  MESSAGE(reads << " whole reads, " << failed << " gave up");
}

TEST_CASE("fttp: lines, records and integer arrays across block edges") {
  FttpCluster cluster;
  REQUIRE(cluster.start_all());
  auto f = cluster.connect();
  std::string text;
  std::vector<std::string> lines;
  for (int i = 0; i < 30'000; ++i) {
    lines.push_back("line " + std::to_string(i) + std::string(static_cast<std::size_t>(i % 17), '.'));
    text += lines.back() + (i % 3 == 0 ? "\r\n" : "\n");
  }
  text += "tail without newline";
  lines.push_back("tail without newline");
  REQUIRE(text.size() > 6 * 65536);
  auto url = cluster.url(0, "data", "lines.txt");
  REQUIRE(f->write_file(url, text).ok());
  auto got = f->read_lines(url);
  REQUIRE(got.ok());
  CHECK(got.value() == lines);

  std::string records = "a|bb||" + std::string(200'000, 'z') + "|end";
  REQUIRE(f->write_file(cluster.url(0, "data", "rec"), records).ok());
  CHECK(f->read_records(cluster.url(0, "data", "rec"), '|').value() ==
        std::vector<std::string>{"a", "bb", "", std::string(200'000, 'z'), "end"});
  int seen = 0;
  REQUIRE(f->for_each_record(cluster.url(0, "data", "rec"), '|', [&](std::string_view) { return ++seen < 2; }).ok());
  CHECK(seen == 2);

  std::vector<std::int32_t> ints;
  for (int i = 0; i < 100'000; ++i) ints.push_back(i * 7919 - 300'000);
  auto iurl = cluster.url(0, "data", "ints.bin");
  REQUIRE(f->write_ints(iurl, ints).ok());
  CHECK(f->stat(iurl)->size == 400'000);
  CHECK(f->read_ints(iurl).value() == ints);
  CHECK(f->read_ints(iurl, 16'380, 10).value() == std::vector<std::int32_t>(ints.begin() + 16'380, ints.begin() + 16'390));
  std::string raw = read_file(cluster.folder(0, "data") + "/ints.bin");
  // Little-endian on disk: ints[0] = -300000 = 0xfffb6c20 is 20 6c fb ff.
  CHECK(static_cast<unsigned char>(raw[0]) == 0x20);
  CHECK(static_cast<unsigned char>(raw[1]) == 0x6c);
  CHECK(static_cast<unsigned char>(raw[3]) == 0xff);
  REQUIRE(f->write_file(cluster.url(0, "data", "odd"), "12345").ok());
  CHECK(f->read_ints(cluster.url(0, "data", "odd")).status().code() == Errc::bad_request);
}

TEST_CASE("fttp: copy goes server to server and the servers are listed from the park") {
  FttpCluster cluster;
  REQUIRE(cluster.start_all());
  auto f = cluster.connect();
  const std::string big = random_bytes(900'000, 11);
  REQUIRE(f->write_file(cluster.url(0, "data", "src.bin"), big).ok());
  REQUIRE(f->write_file(cluster.url(1, "data", "dst.bin"), "old").ok());
  auto copied = f->copy(cluster.url(0, "data", "src.bin"), cluster.url(1, "data", "dst.bin"));
  REQUIRE_MESSAGE(copied.ok(), copied.status().to_string());
  CHECK(copied.value() == big.size());
  CHECK(read_file(cluster.folder(1, "data") + "/dst.bin") == big);
  CHECK(f->copy(cluster.url(0, "data", "src.bin"), cluster.url(1, "data", "dst.bin"), true).status().code() ==
        Errc::exists);
  CHECK(f->copy(cluster.url(0, "data", "none"), cluster.url(1, "data", "x")).status().code() == Errc::not_found);
  CHECK(f->copy(cluster.url(0, "data", "src.bin"), cluster.url(1, "ro", "x")).status().code() == Errc::no_permission);
  // Within one server as well.
  REQUIRE(f->copy(cluster.url(0, "data", "src.bin"), cluster.url(0, "data", "again.bin")).ok());
  CHECK(read_file(cluster.folder(0, "data") + "/again.bin") == big);

  auto park = fourinone::Park::connect(cluster.park_options());
  REQUIRE(park.ok());
  std::vector<fourinone::FttpServerInfo> servers;
  REQUIRE(wait_until(
      [&] {
        auto s = Fttp::servers(*park.value());
        if (s.ok()) servers = s.value();
        return servers.size() == 2;
      },
      10s));
  auto first = cluster.address(0) < cluster.address(1) ? 0 : 1;
  CHECK(servers[0].address == cluster.address(static_cast<std::size_t>(first)));
  CHECK(servers[0].roots == std::vector<std::string>{"data", "ro:ro"});
  // A server that stops leaves the list at once.
  CHECK(cluster.stop(1) == 0);
  CHECK(wait_until([&] { return Fttp::servers(*park.value())->size() == 1; }, 10s));
}
