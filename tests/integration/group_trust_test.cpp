// The servers of a group trust only each other: with PARK/GROUPKEY a Raft message is taken only
// from a connection that logged in with the group key, so a user with a client login (or a
// server with another key) cannot vote or send entries as a leader.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "core/asio.hpp"
#include "core/auth.hpp"
#include "core/rpc_client.hpp"
#include "core/wire_archive.hpp"
#include "park/protocol/messages.hpp"
#include "park/protocol/peer_messages.hpp"
#include "tests/support/park_group.hpp"

using namespace std::chrono_literals;
using fourinone::Errc;
using fourinone::Result;
using fourinone::ServerAddress;
using fourinone::Status;
using fourinone::core::RpcClient;
using fourinone::core::RpcClientOptions;
using fourinone::test::ParkGroup;
using fourinone::test::revision_in_status;
using fourinone::test::wait_until;
namespace proto = fourinone::park::proto;
namespace raft = fourinone::raft;

namespace {

const std::string kGroupKey = "correct-horse-battery-staple";

std::string users() {
  return fourinone::core::format_user_entry(fourinone::core::make_user_entry("alice", "wonderland", 100));
}

std::uint64_t term_in_status(const std::string& status) {
  auto at = status.find("\nterm: ");
  return at == std::string::npos ? 0 : std::stoull(status.substr(at + 7));
}

// Connects to `port` with this login and sends one batch of Raft messages as server `from`, the
// way a park server does (one-way). Returns how the connection went: the login's failure, or
// the error that closed the connection after the send, or OK when it stayed open for a second.
Status speak_as_server(std::uint16_t port, const std::string& user, const std::string& password,
                       raft::NodeId from, raft::NodeId to, std::uint64_t term) {
  boost::asio::io_context io;
  RpcClientOptions options;
  options.user = user;
  options.password = password;
  std::shared_ptr<RpcClient> client;
  Status outcome;
  bool closed = false;
  RpcClient::connect(io, ServerAddress{"127.0.0.1", port}, options, [&](Result<std::shared_ptr<RpcClient>> r) {
    if (!r.ok()) {
      outcome = r.status();
      return;
    }
    client = std::move(r).value();
    client->set_close_handler([&](const Status& why) {
      if (closed) return;  // our own close() below
      closed = true;
      outcome = why;
    });
    // A heartbeat of a far higher term, as from a new leader: taken, it makes the follower
    // follow the sender, and the real leader step down when it hears of the term.
    raft::Message heartbeat;
    heartbeat.type = raft::MessageType::heartbeat;
    heartbeat.from = from;
    heartbeat.to = to;
    heartbeat.term = term;
    proto::PeerRequest request;
    request.from = from;
    request.messages.push_back(heartbeat);
    client->notify(fourinone::core::encode(proto::Request(std::move(request))));
  });
  io.run_for(1s);
  if (client && !closed) {
    closed = true;  // the connection stayed open: outcome stays OK
    client->close();
    io.run_for(100ms);
  }
  return outcome;
}

}  // namespace

TEST_CASE("a group with USERS and a GROUPKEY elects a leader, replicates and serves logged-in users") {
  fourinone::test::ScopedLogin login("alice", "wonderland");  // for the ctl processes ParkGroup runs
  ParkGroup group(3, ParkGroup::Settings{{"USERS", users()}, {"GROUPKEY", kGroupKey}});
  REQUIRE(group.start_all());
  auto leader = group.wait_for_leader();
  REQUIRE(leader.has_value());
  auto options = group.options();
  options.user = "alice";
  options.password = "wonderland";
  auto park = fourinone::Park::connect(options);
  REQUIRE_MESSAGE(park.ok(), park.status().to_string());
  auto written = park.value()->create("cfg", "k", "v");
  REQUIRE_MESSAGE(written.ok(), written.status().to_string());
  for (std::size_t i = 0; i < group.size(); ++i) {
    CHECK_MESSAGE(wait_until([&] { return revision_in_status(group.status_of(i)) == written->mod_revision; }, 5s),
                  "member " << i);
  }
}

TEST_CASE("with a GROUPKEY a user's login cannot speak for a server, nor can a wrong key; the group goes on") {
  fourinone::test::ScopedLogin login("alice", "wonderland");  // for the ctl processes ParkGroup runs
  ParkGroup group(3, ParkGroup::Settings{{"USERS", users()}, {"GROUPKEY", kGroupKey}});
  REQUIRE(group.start_all());
  auto leader = group.wait_for_leader();
  REQUIRE(leader.has_value());
  const std::size_t follower = (*leader + 1) % 3;
  const std::uint64_t term = term_in_status(group.status_of(follower));
  REQUIRE(term > 0);
  const auto port = static_cast<std::uint16_t>(std::stoi(group.address(follower).substr(10)));
  const auto from = static_cast<raft::NodeId>((follower + 1) % 3 + 1);  // another member's id
  const auto to = static_cast<raft::NodeId>(follower + 1);

  // alice logs in (she may read and write nodes) but may not send Raft messages.
  Status as_user = speak_as_server(port, "alice", "wonderland", from, to, term + 100);
  CHECK(as_user.code() == Errc::no_permission);
  CHECK_MESSAGE(as_user.message().find("GROUPKEY") != std::string::npos, as_user.to_string());
  CHECK(group.log_of(follower).find("did not log in with the group key (user 'alice') refused") != std::string::npos);

  // A server with another key does not get past the login.
  Status wrong_key = speak_as_server(port, std::string(fourinone::core::kGroupUser), "another-group-key-0000", from,
                                     to, term + 100);
  CHECK(wrong_key.code() == Errc::unauthenticated);
  CHECK_MESSAGE(wrong_key.message().find("wrong group key") != std::string::npos, wrong_key.to_string());

  // Neither message was taken: the term and the leader are the same.
  std::this_thread::sleep_for(300ms);
  CHECK(term_in_status(group.status_of(follower)) == term);
  auto still = group.wait_for_leader();
  REQUIRE(still.has_value());
  CHECK(*still == *leader);

  // The control: with the group key the same message gets through, and the far higher term
  // makes the follower step into it (the group then elects again, in a later term still).
  Status as_member =
      speak_as_server(port, std::string(fourinone::core::kGroupUser), kGroupKey, from, to, term + 100);
  CHECK_MESSAGE(as_member.ok(), as_member.to_string());
  CHECK(wait_until([&] { return term_in_status(group.status_of(follower)) >= term + 100; }, 5s));
  CHECK(group.wait_for_leader().has_value());
}
