// fourinone ctl member add|remove|list: change the park group's members, one server at a time.
//
// add returns once the new server is a voter: the leader adds it as a learner, it catches up
// (from a snapshot when the log was compacted), and the leader promotes it. Start the new
// server with `fourinone park --server HOST:PORT --join` before or after; until it runs, add
// waits (up to --wait seconds, default 60) and says the server is still a learner.
#include <chrono>
#include <iostream>
#include <thread>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "fourinone/park.hpp"

namespace fourinone::cli {
namespace {

void print_members(const std::vector<MemberStatus>& members) {
  for (const auto& m : members) {
    std::cout << m.id << " " << m.address << " " << (m.voter ? "voter" : "learner") << " " << m.role << " "
              << (m.healthy ? "healthy" : "unhealthy");
    if (m.match_index) std::cout << " match " << m.match_index;
    std::cout << "\n";
  }
  std::cout.flush();
}

// Whether `address` is a voter, as the leader sees it.
std::optional<bool> is_voter(Park& park, const std::string& address) {
  auto members = park.members();
  if (!members.ok()) return std::nullopt;
  for (const auto& m : members.value()) {
    if (m.address == address) return m.voter;
  }
  return std::nullopt;
}

}  // namespace

int ctl_member(Park& park, const Args& args) {
  const auto& p = args.positional;
  if (p.size() < 2 || (p[1] == "list" ? p.size() != 2 : p.size() != 3)) {
    std::cerr << "fourinone ctl: usage: member add HOST:PORT [--wait SECONDS] | member remove HOST:PORT | member list\n";
    return 2;
  }
  if (p[1] == "list") {
    auto members = park.members();
    if (!members.ok()) return fail(members.status());
    print_members(members.value());
    return 0;
  }
  auto address = parse_server_address(p[2]);
  if (!address.ok()) return fail(address.status());
  const std::string where = address->to_string();
  if (p[1] == "remove") {
    if (Status s = park.remove_member(where); !s.ok()) return fail(s);
    std::cout << "removed " << where << "\n";
    return 0;
  }
  if (p[1] != "add") {
    std::cerr << "fourinone ctl: member takes add, remove or list, not '" << p[1] << "'\n";
    return 2;
  }
  std::int64_t wait_s = 60;
  if (auto w = args.value("wait")) {
    auto n = parse_int("--wait", *w);
    if (!n.ok() || n.value() < 0) return fail(Status(Errc::bad_request, "--wait needs whole seconds"));
    wait_s = n.value();
  }
  if (Status s = park.add_member(where); !s.ok()) return fail(s);
  std::cout << "added " << where << " as a learner" << std::endl;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
  while (true) {
    if (is_voter(park, where).value_or(false)) {
      std::cout << where << " caught up and is a voter" << std::endl;
      return 0;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return fail(Status(Errc::timeout, where + " is still a learner after " + std::to_string(wait_s) +
                                        " s: is it running (fourinone park --server " + where +
                                        " --join)? The leader promotes it once it has caught up"));
}

}  // namespace fourinone::cli
