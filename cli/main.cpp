// fourinone: the one binary. `fourinone <role|command> ...`; see DESIGN §7 and README.md.
#include <cstring>
#include <iostream>

#include "core/version.hpp"
#include "cli/commands.hpp"

namespace {

void usage(std::ostream& out) {
  out << "usage: fourinone <command> [options]\n"
         "\n"
         "  park   [--config F] [--server HOST:PORT]   run one park server of config F\n"
         "  up     [--config F]                        start every park, cache and fttp server of F on this host;\n"
         "                                             Ctrl-C stops them all\n"
         "  ctl    [--config F] <command> ...          talk to the park: create, update, get, ls, rm,\n"
         "                                             latest, watch, status; and to the cache: cache\n"
         "                                             get|set|rm|stat; and to the message queue: mq\n"
         "                                             send|receive|stat|ls|... (fourinone ctl --help);\n"
         "                                             and to file servers: fttp ls|get|put|cp|rm|stat;\n"
         "                                             lock NAME -- CMD / elect NAME -- CMD: run CMD\n"
         "                                             holding a lock / while leader\n"
         "  cache  [--config F] --server HOST:PORT     run one cache server of a CACHEGROUP row of F\n"
         "  fttp   [--config F] --server HOST:PORT     run one file server exposing the ROOTS of F's FTTP row\n"
         "  passwd USER [--iterations N]               read a password on stdin, print a USERS entry\n"
         "  version                                    print the version and the git commit of this build\n"
         "                                             (also --version)\n"
         "\n"
         "F defaults to ./config.xml. Data goes to stdout, errors to stderr with a non-zero exit code.\n";
}

// One line, for scripts and bug reports: "fourinone 0.1.0 (commit 1a2b3c4)"; the commit may end
// in "-dirty" (built with local changes) or be "unknown" (not built from a git checkout).
void print_version() {
  std::cout << "fourinone " << fourinone::core::build_version() << " (commit " << fourinone::core::build_commit() << ")\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  std::string command = argv[1];
  if (command == "version" || command == "--version") {
    print_version();
    return 0;
  }
  if (command == "park") return fourinone::cli::park_command(argc, argv);
  if (command == "up") return fourinone::cli::up_command(argc, argv);
  if (command == "ctl") return fourinone::cli::ctl_command(argc, argv);
  if (command == "passwd") return fourinone::cli::passwd_command(argc, argv);
  if (command == "cache") return fourinone::cli::cache_command(argc, argv);
  if (command == "fttp") return fourinone::cli::fttp_command(argc, argv);
  std::cerr << "fourinone: unknown command '" << command << "'\n\n";
  usage(std::cerr);
  return 2;
}
