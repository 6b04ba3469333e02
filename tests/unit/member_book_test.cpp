// The pure parts of membership in the park server: the member book (addresses in the Raft
// membership's context), the stored snapshot envelope, and the member id file.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "park/server/member_book.hpp"
#include "park/server/member_id.hpp"
#include "park/server/stored_snapshot.hpp"

using fourinone::Errc;
using fourinone::ServerAddress;
namespace park = fourinone::park;
namespace raft = fourinone::raft;

namespace {

const std::vector<ServerAddress> kBootstrap{{"10.0.0.1", 1888}, {"10.0.0.2", 1888}, {"10.0.0.3", 1888}};

raft::Membership bootstrap() { return raft::Membership{{1, 2, 3}, {}, ""}; }

}  // namespace

TEST_CASE("member book: the bootstrap membership is PARK/SERVERS by place; the log's carries its own") {
  auto book = park::member_book_of(bootstrap(), kBootstrap);
  REQUIRE(book.ok());
  CHECK(book->addresses.at(2) == kBootstrap[1]);
  CHECK(book->next_id == 4);

  auto grown = park::membership_adding(bootstrap(), kBootstrap, ServerAddress{"10.0.0.9", 2000});
  REQUIRE(grown.ok());
  CHECK(grown->voters == std::vector<raft::NodeId>{1, 2, 3});
  CHECK(grown->learners == std::vector<raft::NodeId>{4});
  // From now on config.xml does not matter: another bootstrap list gives the same book.
  auto later = park::member_book_of(grown.value(), {});
  REQUIRE(later.ok());
  CHECK(later->addresses.at(4) == ServerAddress{"10.0.0.9", 2000});
  CHECK(later->addresses.at(1) == kBootstrap[0]);
  CHECK(later->next_id == 5);

  // Ids are never reused: remove 4, add the same address again, it becomes 5.
  auto shrunk = park::membership_removing(grown.value(), kBootstrap, ServerAddress{"10.0.0.9", 2000});
  REQUIRE(shrunk.ok());
  CHECK(shrunk->learners.empty());
  auto again = park::membership_adding(shrunk.value(), kBootstrap, ServerAddress{"10.0.0.9", 2000});
  REQUIRE(again.ok());
  CHECK(again->learners == std::vector<raft::NodeId>{5});
}

TEST_CASE("member book: adding a member twice, removing a stranger or the last voter is refused") {
  CHECK(park::membership_adding(bootstrap(), kBootstrap, kBootstrap[2]).status().code() == Errc::exists);
  CHECK(park::membership_removing(bootstrap(), kBootstrap, ServerAddress{"10.9.9.9", 1}).status().code() ==
        Errc::not_found);
  raft::Membership one{{2}, {}, ""};
  auto last = park::membership_removing(one, kBootstrap, kBootstrap[1]);
  CHECK(last.status().code() == Errc::bad_request);
  CHECK(last.status().message().find("last voter") != std::string::npos);
}

TEST_CASE("member book: a malformed context is refused, naming what is wrong") {
  CHECK(park::decode_member_book("next=3;1=a:1;2=b:2").ok());
  CHECK(park::decode_member_book("1=a:1").status().message().find("no next id") != std::string::npos);
  CHECK(park::decode_member_book("next=2;1=a:1;2=b:2").status().message().find("not past") != std::string::npos);
  CHECK(park::decode_member_book("next=3;x=a:1").status().message().find("member id 'x'") != std::string::npos);
  CHECK(park::decode_member_book("next=3;1=nonsense").status().message().find("member 1") != std::string::npos);
  CHECK(park::decode_member_book("next=3;1=a:1;1=a:2").status().message().find("twice") != std::string::npos);
  CHECK_FALSE(park::member_book_of(raft::Membership{{1, 7}, {}, "next=3;1=a:1"}, {}).ok());
}

TEST_CASE("stored snapshot: the membership travels with the store's bytes; old snapshots still read") {
  raft::Membership m{{1, 2, 4}, {5}, "next=6;1=a:1;2=b:2;4=d:4;5=e:5"};
  const std::string store_bytes("\x02store bytes\0with a zero", 24);
  auto back = park::unwrap_snapshot(park::wrap_snapshot(m, store_bytes));
  REQUIRE(back.ok());
  REQUIRE(back->membership.has_value());
  CHECK(*back->membership == m);
  CHECK(back->store_bytes == store_bytes);

  auto old = park::unwrap_snapshot(store_bytes);  // written before memberships lived in the log
  REQUIRE(old.ok());
  CHECK_FALSE(old->membership.has_value());
  CHECK(old->store_bytes == store_bytes);

  std::string wrapped = park::wrap_snapshot(m, store_bytes);
  CHECK_FALSE(park::unwrap_snapshot(wrapped.substr(0, 5)).ok());
  std::string too_long = wrapped;
  too_long[2] = '\x7f';  // the membership's length, far past the end
  CHECK(park::unwrap_snapshot(too_long).status().message().find("longer than the snapshot") != std::string::npos);
  std::string garbled = wrapped;
  garbled[11] = 'X';  // the membership's own marker
  CHECK(park::unwrap_snapshot(garbled).status().message().find("does not decode") != std::string::npos);
}

TEST_CASE("member id: written once, read back; a damaged file is an error, a missing one is nothing") {
  auto dir = std::filesystem::temp_directory_path() / ("member-id-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto none = park::read_member_id(dir.string());
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  REQUIRE(park::write_member_id(dir.string(), 42).ok());
  auto id = park::read_member_id(dir.string());
  REQUIRE(id.ok());
  CHECK(id->value() == 42);
  std::ofstream(dir / "MEMBER_ID") << "forty-two\n";
  auto damaged = park::read_member_id(dir.string());
  CHECK(damaged.status().code() == Errc::internal);
  CHECK(damaged.status().message().find("damaged") != std::string::npos);
  std::filesystem::remove_all(dir);
}
