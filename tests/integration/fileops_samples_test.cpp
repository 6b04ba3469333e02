// samples/fttp_demo (the original's FttpDemo programs) and the word count reading its input
// through fttp, against a park and two real `fourinone fttp` servers.
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/fttp_cluster.hpp"

using namespace std::chrono_literals;
using fourinone::test::FttpCluster;
using fourinone::test::Process;
using fourinone::test::read_file;
using fourinone::test::run_program;

namespace {

std::string sample(const std::string& name) { return std::string(FOURINONE_BINARY_DIR) + "/samples/" + name; }

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The line "N file(s), T task(s): D distinct words, W words in all" of a word count's report.
std::string totals_line(const std::string& out) {
  const auto at = out.find(" file(s), ");
  if (at == std::string::npos) return "";
  const auto begin = out.rfind('\n', at) + 1;
  return out.substr(begin, out.find('\n', at) - begin);
}

}  // namespace

TEST_CASE("fttp_demo: roots, operate, write-read, parse, copy between servers and parallel blocks") {
  FttpCluster cluster;
  REQUIRE(cluster.start_all());
  // A server accepts connections a moment before its registration reaches the park.
  auto park = fourinone::Park::connect(cluster.park_options());
  REQUIRE(park.ok());
  REQUIRE(fourinone::test::wait_until(
      [&] {
        auto listed = fourinone::Fttp::servers(*park.value());
        return listed.ok() && listed->size() == 2;
      },
      10s));
  auto demo = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {sample("fttp_demo"), "--config", cluster.config(0)});
    auto r = run_program(args, "", 60s);
    INFO(r.out, r.err);
    CHECK(r.code == 0);
    return r.out;
  };
  const std::string a = cluster.address(0), b = cluster.address(1);

  const std::string roots = demo({"roots"});
  CHECK(has(roots, "2 file server(s) in the park"));
  CHECK(has(roots, "fttp://" + a + " roots:\n  folder data size=0\n  folder ro size=0 read-only\n"));
  CHECK(has(roots, "fttp://" + b + " roots:"));

  const std::string base = cluster.url(0, "data", "").to_string();
  CHECK(has(demo({"operate", base}), "children of " + base + "/operate_demo:\n  file b.txt size=11\n  file c.txt size=11\n"
                                     "  folder sub size=0\nremoved"));
  CHECK_FALSE(std::filesystem::exists(cluster.folder(0, "data") + "/operate_demo"));

  CHECK(has(demo({"write-read", base + "/hello.txt"}), "read bytes 6..10: world\n"
                                                       "three windows written and read back in parallel: alpha bravo delta"));
  CHECK(read_file(cluster.folder(0, "data") + "/hello.txt") == "alphabravodelta");

  const std::string parsed = demo({"parse", base + "/parse.txt"});
  CHECK(has(parsed, "lines:\n  [first line]\n  [second line]\n  [third,with,commas]\n"));
  CHECK(has(parsed, "  [with]\n  [commas]\n"));
  CHECK(has(parsed, "integers: 1 -2 300000 4\nintegers 1..2: -2 300000\n"));

  // Both copies land on the second server, whose folder is not the first one's.
  const std::string copied = demo({"copy", base + "/hello.txt", cluster.url(1, "data", "c1.txt").to_string(),
                                   cluster.url(1, "data", "c2.txt").to_string()});
  CHECK(has(copied, "2 copies in"));
  CHECK(read_file(cluster.folder(1, "data") + "/c1.txt") == "alphabravodelta");
  CHECK(read_file(cluster.folder(1, "data") + "/c2.txt") == "alphabravodelta");

  // A copy into a read-only root is refused, and the demo says so with a failing exit.
  auto refused = run_program({sample("fttp_demo"), "--config", cluster.config(0), "copy", base + "/hello.txt",
                              cluster.url(1, "ro", "c3.txt").to_string()},
                             "", 60s);
  CHECK(refused.code == 1);
  CHECK(has(refused.out, "failed: "));
  CHECK_FALSE(std::filesystem::exists(cluster.folder(1, "ro") + "/c3.txt"));

  const std::string blocks = demo({"blocks", base + "/big.bin", "--mib", "4"});
  CHECK(has(blocks, "4 MiB with 1 connection(s)"));
  CHECK(has(blocks, "content identical"));
  CHECK_FALSE(has(blocks, "DIFFERS"));
}

TEST_CASE("the word count reads its input through fttp on its workers and counts as it does from local files") {
  FttpCluster cluster;
  REQUIRE(cluster.start_all());
  // The licences (not the links among them) in the first server's root, and in a local folder.
  const std::string remote = cluster.folder(0, "data") + "/licenses";
  const std::string local = cluster.dir().file("licenses");
  std::filesystem::create_directories(remote);
  std::filesystem::create_directories(local);
  for (const auto& entry : std::filesystem::directory_iterator("/usr/share/common-licenses")) {
    if (!entry.is_regular_file() || entry.is_symlink()) continue;
    std::filesystem::copy_file(entry.path(), remote + "/" + entry.path().filename().string());
    std::filesystem::copy_file(entry.path(), local + "/" + entry.path().filename().string());
  }
  std::vector<std::unique_ptr<Process>> workers;
  for (int i = 0; i < 2; ++i) {
    workers.push_back(std::make_unique<Process>(
        std::vector<std::string>{sample("word_count_demo"), "worker", "--config", cluster.config(0)},
        cluster.dir().file("wc_worker" + std::to_string(i))));
  }
  auto count = [&](const std::string& path) {
    auto r = run_program({sample("word_count_demo"), "contractor", "--config", cluster.config(0), "--workers-expected",
                          "2", "--check", path},
                         "", 60s);
    INFO(r.out, r.err);
    CHECK(r.code == 0);
    CHECK(has(r.out, "single-process check: OK"));
    return totals_line(r.out);
  };
  const std::string through_fttp = count(cluster.url(0, "data", "licenses").to_string());
  const std::string from_disk = count(local);
  CHECK_FALSE(through_fttp.empty());
  CHECK(through_fttp == from_disk);
  for (auto& w : workers) w->signal(SIGTERM);
  for (auto& w : workers) CHECK(w->wait(10s) == 0);
}
