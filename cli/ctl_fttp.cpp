// fourinone ctl fttp ...: remote files (fttp:// URLs) from the shell.
#include <unistd.h>

#include <iostream>
#include <iterator>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "fourinone/fileops.hpp"

namespace fourinone::cli {
namespace {

const char* kFttpUsage =
    "usage: fourinone ctl [--config F] [--timeout MS] fttp <command> ...\n"
    "  fttp servers                               the file servers registered in the park, with roots\n"
    "  fttp ls URL                                a folder: one 'TYPE SIZE NAME' line per entry;\n"
    "                                             fttp://HOST:PORT alone lists its roots\n"
    "  fttp stat URL                              name, type, size, mode, mtime_ns\n"
    "  fttp get URL [LOCAL] [--offset N] [--length N]\n"
    "                                             to LOCAL (written under a temporary name, then\n"
    "                                             renamed), or to stdout (a range with --offset/--length)\n"
    "  fttp put LOCAL|- URL [--exclusive]         a local file (or stdin) as URL, by a two-phase\n"
    "                                             write; --exclusive: fail if URL exists\n"
    "  fttp cp SRC_URL DST_URL [--exclusive]      server to server; prints the bytes copied\n"
    "  fttp rm URL [--recursive]                  a file or an empty folder (--recursive: any folder)\n"
    "  fttp mkdir URL [--parents]\n"
    "  fttp mv FROM_URL TO_URL                    within one server and root\n"
    "URLs: fttp://HOST:PORT/ROOT/PATH. Logins from FOURINONE_USER / FOURINONE_PASSWORD.\n";

int fttp_usage(const std::string& why) {
  std::cerr << "fourinone ctl fttp: " << why << "\n" << kFttpUsage;
  return 2;
}

const char* type_name(FileType t) {
  return t == FileType::file ? "file" : t == FileType::folder ? "folder" : "other";
}

Result<FttpUrl> url_arg(const std::string& text) { return FttpUrl::parse(text); }

}  // namespace

const char* ctl_fttp_usage() { return kFttpUsage; }

int ctl_fttp(const Config& config, const Args& args, const ParkOptions& park, std::chrono::milliseconds timeout) {
  const auto& p = args.positional;  // p[0] == "fttp"
  if (p.size() < 2) return fttp_usage("no fttp command given");
  const std::string& cmd = p[1];
  auto want = [&](std::size_t low, std::size_t high) { return p.size() >= low + 2 && p.size() <= high + 2; };
  struct Shape {
    const char* name;
    std::size_t low, high;
    const char* says;
  };
  static const Shape kShapes[] = {
      {"servers", 0, 0, "servers takes no arguments"}, {"ls", 1, 1, "ls takes URL"},
      {"stat", 1, 1, "stat takes URL"},                {"get", 1, 2, "get takes URL [LOCAL]"},
      {"put", 2, 2, "put takes LOCAL|- URL"},          {"cp", 2, 2, "cp takes SRC_URL DST_URL"},
      {"rm", 1, 1, "rm takes URL"},                    {"mkdir", 1, 1, "mkdir takes URL"},
      {"mv", 2, 2, "mv takes FROM_URL TO_URL"},
  };
  const Shape* shape = nullptr;
  for (const auto& s : kShapes) {
    if (cmd == s.name) shape = &s;
  }
  if (shape == nullptr) return fttp_usage("unknown fttp command '" + cmd + "'");
  if (!want(shape->low, shape->high)) return fttp_usage(shape->says);
  auto options = FttpOptions::from_config(config);
  if (!options.ok()) return fail(options.status());
  if (timeout.count() > 0) {
    options->call_timeout = timeout;
    options->connect_timeout = std::min(options->connect_timeout, timeout);
  }

  if (cmd == "servers") {
    auto parked = Park::connect(park);
    if (!parked.ok()) return fail(parked.status());
    auto servers = Fttp::servers(*parked.value(), options->service);
    if (!servers.ok()) return fail(servers.status());
    for (const auto& s : servers.value()) {
      std::cout << s.address;
      for (const auto& r : s.roots) std::cout << " " << r;
      std::cout << "\n";
    }
    return 0;
  }
  std::vector<FttpUrl> urls;
  for (std::size_t i = 2; i < p.size(); ++i) {
    if (cmd == "put" && i == 2) continue;          // LOCAL
    if (cmd == "get" && i == 3) continue;          // LOCAL
    auto url = url_arg(p[i]);
    if (!url.ok()) return fail(url.status());
    urls.push_back(url.value());
  }
  auto client = Fttp::connect(options.value());
  if (!client.ok()) return fail(client.status());
  Fttp& f = *client.value();

  if (cmd == "ls") {
    auto entries = f.list(urls[0]);
    if (!entries.ok()) return fail(entries.status());
    for (const auto& e : entries.value()) {
      if (urls[0].root.empty()) {
        std::cout << "root " << (e.read_only ? "ro " : "rw ") << e.name << "\n";
      } else {
        std::cout << type_name(e.type) << " " << e.size << " " << e.name << "\n";
      }
    }
    return 0;
  }
  if (cmd == "stat") {
    auto info = f.stat(urls[0]);
    if (!info.ok()) return fail(info.status());
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", info->mode);
    std::cout << "name: " << info->name << "\ntype: " << type_name(info->type) << "\nsize: " << info->size
              << "\nmode: " << mode << "\nmtime_ns: " << info->mtime_ns << "\n";
    return 0;
  }
  if (cmd == "get") {
    bool ranged = args.has("offset") || args.has("length");
    if (p.size() == 4) {
      if (ranged) return fttp_usage("--offset/--length write to stdout: give no LOCAL");
      auto n = f.download(urls[0], p[3]);
      if (!n.ok()) return fail(n.status());
      return 0;
    }
    std::uint64_t offset = 0, length = ~std::uint64_t{0} >> 1;
    if (auto v = args.value("offset")) {
      auto n = parse_int("--offset", *v);
      if (!n.ok() || n.value() < 0) return fail(Status(Errc::bad_request, "--offset needs a byte offset of 0 or more")), 2;
      offset = static_cast<std::uint64_t>(n.value());
    }
    if (auto v = args.value("length")) {
      auto n = parse_int("--length", *v);
      if (!n.ok() || n.value() < 0) return fail(Status(Errc::bad_request, "--length needs a byte count of 0 or more")), 2;
      length = static_cast<std::uint64_t>(n.value());
    }
    auto bytes = f.read(urls[0], offset, length);
    if (!bytes.ok()) return fail(bytes.status());
    std::cout.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
    return 0;
  }
  if (cmd == "put") {
    bool exclusive = args.has("exclusive");
    if (p[2] == "-") {
      std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
      if (Status s = f.write_file(urls[0], data, exclusive); !s.ok()) return fail(s);
      return 0;
    }
    auto n = f.upload(p[2], urls[0], exclusive);
    if (!n.ok()) return fail(n.status());
    return 0;
  }
  if (cmd == "cp") {
    auto n = f.copy(urls[0], urls[1], args.has("exclusive"));
    if (!n.ok()) return fail(n.status());
    std::cout << n.value() << "\n";
    return 0;
  }
  if (cmd == "rm") {
    if (Status s = f.remove(urls[0], args.has("recursive")); !s.ok()) return fail(s);
    return 0;
  }
  if (cmd == "mkdir") {
    if (Status s = f.mkdir(urls[0], args.has("parents")); !s.ok()) return fail(s);
    return 0;
  }
  if (Status s = f.rename(urls[0], urls[1]); !s.ok()) return fail(s);  // mv
  return 0;
}

}  // namespace fourinone::cli
