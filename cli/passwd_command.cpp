// fourinone passwd USER: makes a USERS entry for config.xml from a password read on stdin.
// Only the salted keys are printed; the password itself never appears in the config.
#include <iostream>
#include <string>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "core/auth.hpp"

namespace fourinone::cli {

int passwd_command(int argc, char** argv) {
  auto args = parse_args(argc, argv, 2, {"iterations"}, {"help"});
  if (!args.ok()) return fail(args.status()), 2;
  if (args->has("help") || args->positional.size() != 1) {
    std::cerr << "usage: echo PASSWORD | fourinone passwd USER [--iterations N]\n"
                 "Prints the entry to put in PARK/USERS (entries are separated by commas).\n";
    return args->has("help") ? 0 : 2;
  }
  std::uint32_t iterations = 4096;
  if (auto it = args->value("iterations")) {
    try {
      iterations = static_cast<std::uint32_t>(std::stoul(*it));
    } catch (const std::exception&) {
      return fail(Status(Errc::bad_request, "--iterations needs a number")), 2;
    }
    if (iterations < 1000 || iterations > 1'000'000) {
      return fail(Status(Errc::bad_request, "--iterations must be between 1000 and 1000000")), 2;
    }
  }
  std::string password;
  if (!std::getline(std::cin, password) || password.empty()) {
    return fail(Status(Errc::bad_request, "no password on stdin"));
  }
  std::cout << core::format_user_entry(core::make_user_entry(args->positional[0], password, iterations)) << "\n";
  return 0;
}

}  // namespace fourinone::cli
