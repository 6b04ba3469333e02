// fourinone ctl services SERVICE: the live instances of a registry service (registry.hpp),
// one per line, "ID ADDRESS key=value ...", ordered by id. Compute workers are the services
// workers.<type>, so `fourinone ctl services workers.wordcount` shows each worker's capacity
// and load as the contractors see them.
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "fourinone/registry.hpp"

namespace fourinone::cli {

int ctl_services(Park& park, const Args& args) {
  if (args.positional.size() != 2) {
    std::cerr << "fourinone ctl: usage: services SERVICE\n";
    return 2;
  }
  ServiceRegistry registry(park);
  auto live = registry.instances(args.positional[1]);
  if (!live.ok()) return fail(live.status());
  for (const Instance& in : live.value()) {
    std::cout << in.id << " " << (in.address.empty() ? "-" : in.address);
    for (const auto& [key, value] : in.metadata) std::cout << " " << key << "=" << value;
    std::cout << "\n";
  }
  std::cout.flush();
  return 0;
}

}  // namespace fourinone::cli
