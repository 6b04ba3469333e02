// FttpDemo: the original's remote-file demos on fttp (include/fourinone/fileops.hpp).
//
//   fttp_demo [--config F] roots                     FttpRootDemo: the file servers and their roots
//   fttp_demo [--config F] operate FOLDER_URL        FttpOperateDemo: mkdir, create, rename, copy,
//                                                    list with properties, remove it all
//   fttp_demo [--config F] write-read FILE_URL       FttpWriteReadDemo + FttpMulWriteReadDemo:
//                                                    write, read all, read a range; three threads
//                                                    write 5-byte windows, then read them back
//   fttp_demo [--config F] parse FILE_URL            FttpParseDemo: lines, records, integers
//   fttp_demo [--config F] copy FROM_URL TO_URL...   FttpCopyDemo + FttpMulCopyDemo: server to
//                                                    server, to every destination at once
//   fttp_demo [--config F] blocks FILE_URL [--mib N] a large file written and read back in
//                                                    parallel blocks, against one connection
//
// A URL is fttp://HOST:PORT/ROOT/PATH, ROOT one of the roots of the server's FTTP row. Unlike
// the original, a server exposes only its configured roots: `roots` shows them.
#include <chrono>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fourinone/fileops.hpp"
#include "fourinone/park.hpp"

namespace {

using fourinone::Fttp;
using fourinone::FttpUrl;

// Result<T>::value() throws fourinone::Error with the status: main() prints it.
FttpUrl url(const std::string& text) { return FttpUrl::parse(text).value(); }

void ok(const fourinone::Status& s) {
  if (!s.ok()) throw fourinone::Error(s);
}

const char* type_name(fourinone::FileType t) {
  switch (t) {
    case fourinone::FileType::file: return "file";
    case fourinone::FileType::folder: return "folder";
    default: return "other";
  }
}

void print_info(const fourinone::FileInfo& f) {
  std::cout << "  " << type_name(f.type) << " " << f.name << " size=" << f.size << (f.read_only ? " read-only" : "")
            << "\n";
}

int roots(const fourinone::Config& config, Fttp& fttp) {
  auto park = fourinone::Park::connect(config).value();
  const auto servers = Fttp::servers(*park).value();
  std::cout << servers.size() << " file server(s) in the park\n";
  for (const auto& server : servers) {
    std::cout << "fttp://" << server.address << " roots:\n";
    for (const auto& root : fttp.list(url("fttp://" + server.address)).value()) print_info(root);
  }
  return 0;
}

int operate(Fttp& fttp, const FttpUrl& base) {
  const FttpUrl dir = base.child("operate_demo");
  ok(fttp.mkdir(dir, true));
  std::cout << "made " << dir.to_string() << "\n";
  ok(fttp.write_file(dir.child("a.txt"), "hello fttp\n"));
  ok(fttp.rename(dir.child("a.txt"), dir.child("b.txt")));
  std::cout << "wrote a.txt, renamed it b.txt\n";
  const auto copied = fttp.copy(dir.child("b.txt"), dir.child("c.txt")).value();
  std::cout << "copied b.txt to c.txt (" << copied << " bytes)\n";
  ok(fttp.mkdir(dir.child("sub")));
  std::cout << "children of " << dir.to_string() << ":\n";
  for (const auto& f : fttp.list(dir).value()) print_info(f);
  ok(fttp.remove(dir, true));
  std::cout << "removed " << dir.to_string() << " and everything in it: "
            << (fttp.stat(dir).status().code() == fourinone::Errc::not_found ? "gone" : "STILL THERE") << "\n";
  return 0;
}

int write_read(Fttp& fttp, const FttpUrl& file) {
  ok(fttp.write_file(file, "hello world"));
  std::cout << "read all: " << fttp.read_file(file).value() << "\n";
  std::cout << "read bytes 6..10: " << fttp.read(file, 6, 5).value() << "\n";

  // FttpMulWriteReadDemo: three writers fill their own 5-byte window of one file at once.
  ok(fttp.write_file(file, std::string(15, '.')));
  const std::vector<std::string> words{"alpha", "bravo", "delta"};
  std::vector<std::thread> threads;
  std::vector<fourinone::Status> results(words.size());
  for (std::size_t i = 0; i < words.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = fttp.write(file, 5 * i, words[i], false); });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : results) ok(s);
  std::vector<std::string> back(words.size());
  threads.clear();
  for (std::size_t i = 0; i < words.size(); ++i) {
    threads.emplace_back([&, i] { back[i] = fttp.read(file, 5 * i, 5).value_or("?"); });
  }
  for (auto& t : threads) t.join();
  std::cout << "three windows written and read back in parallel:";
  for (const auto& w : back) std::cout << " " << w;
  std::cout << "\n";
  return back == words ? 0 : 1;
}

int parse(Fttp& fttp, const FttpUrl& file) {
  ok(fttp.write_file(file, "first line\r\nsecond line\nthird,with,commas"));
  std::cout << "lines:\n";
  for (const auto& line : fttp.read_lines(file).value()) std::cout << "  [" << line << "]\n";
  std::cout << "records split by ',':\n";
  for (const auto& r : fttp.read_records(file, ',').value()) std::cout << "  [" << r << "]\n";
  FttpUrl ints = file;
  ints.path += ".ints";
  ok(fttp.write_ints(ints, {1, -2, 300000, 4}));
  std::cout << "integers:";
  for (int v : fttp.read_ints(ints).value()) std::cout << " " << v;
  std::cout << "\nintegers 1..2:";
  for (int v : fttp.read_ints(ints, 1, 2).value()) std::cout << " " << v;
  std::cout << "\n";
  ok(fttp.remove(ints));
  return 0;
}

int copy(Fttp& fttp, const FttpUrl& from, const std::vector<FttpUrl>& to) {
  // FttpMulCopyDemo: every destination at once; each copy goes server to server.
  std::vector<std::thread> threads;
  std::vector<fourinone::Result<std::uint64_t>> results(to.size(), fourinone::Status());
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < to.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = fttp.copy(from, to[i]); });
  }
  for (auto& t : threads) t.join();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  int failed = 0;
  for (std::size_t i = 0; i < to.size(); ++i) {
    if (results[i].ok()) {
      std::cout << "copied to " << to[i].to_string() << ": " << results[i].value() << " bytes\n";
    } else {
      std::cout << "copy to " << to[i].to_string() << " failed: " << results[i].status().to_string() << "\n";
      ++failed;
    }
  }
  std::cout << to.size() << " copies in " << ms << " ms\n";
  return failed == 0 ? 0 : 1;
}

int blocks(const fourinone::FttpOptions& options, const FttpUrl& file, std::uint64_t mib) {
  std::string data(mib << 20, '\0');
  std::mt19937_64 random(7);
  for (std::size_t i = 0; i + 8 <= data.size(); i += 8) {
    const std::uint64_t w = random();
    std::memcpy(&data[i], &w, 8);
  }
  for (std::size_t connections : {std::size_t{1}, options.connections}) {
    fourinone::FttpOptions o = options;
    o.connections = connections;
    auto fttp = Fttp::connect(o).value();
    auto start = std::chrono::steady_clock::now();
    ok(fttp->write_file(file, data));
    const double write_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    start = std::chrono::steady_clock::now();
    const std::string back = fttp->read_file(file).value();
    const double read_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << mib << " MiB with " << connections << " connection(s): write " << static_cast<int>(mib / write_s)
              << " MiB/s, read " << static_cast<int>(mib / read_s) << " MiB/s, "
              << (back == data ? "content identical" : "CONTENT DIFFERS") << "\n";
    if (back != data) return 1;
  }
  ok(Fttp::connect(options).value()->remove(file));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = "config.xml";
  std::uint64_t mib = 64;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) config_path = argv[++i];
    else if (a == "--mib" && i + 1 < argc) mib = std::stoull(argv[++i]);
    else args.push_back(a);
  }
  const std::string command = args.empty() ? "" : args[0];
  const bool needs_url = command != "roots";
  if (command.empty() || (needs_url && args.size() < 2) || (command == "copy" && args.size() < 3)) {
    std::cerr << "usage: fttp_demo [--config F] roots | operate FOLDER_URL | write-read FILE_URL | parse FILE_URL |\n"
                 "                 copy FROM_URL TO_URL... | blocks FILE_URL [--mib N]\n";
    return 2;
  }
  try {
    const fourinone::Config config = fourinone::load_config(config_path).value();
    const fourinone::FttpOptions options = fourinone::FttpOptions::from_config(config).value();
    auto fttp = Fttp::connect(options).value();
    if (command == "roots") return roots(config, *fttp);
    if (command == "operate") return operate(*fttp, url(args[1]));
    if (command == "write-read") return write_read(*fttp, url(args[1]));
    if (command == "parse") return parse(*fttp, url(args[1]));
    if (command == "blocks") return blocks(options, url(args[1]), mib);
    if (command == "copy") {
      std::vector<FttpUrl> to;
      for (std::size_t i = 2; i < args.size(); ++i) to.push_back(url(args[i]));
      return copy(*fttp, url(args[1]), to);
    }
    std::cerr << "fttp_demo: unknown command " << command << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "fttp_demo " << command << ": " << e.what() << "\n";
    return 1;
  }
}
