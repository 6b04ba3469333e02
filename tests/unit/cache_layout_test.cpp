// Cache layout: its byte form, its checks, and where the hash ring puts keys.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cache/routing/layout.hpp"
#include "core/wire_archive.hpp"

using namespace fourinone;
using namespace fourinone::cache;

namespace {

constexpr int kLayoutTestKeys = 100'000;

Layout layout_of(const std::vector<std::string>& names, std::uint32_t vnodes = kDefaultVnodes) {
  Layout layout;
  layout.version = 1;
  layout.vnodes = vnodes;
  std::uint16_t port = 7000;
  for (const std::string& name : names) {
    layout.groups.push_back(GroupLayout{name, {ServerAddress{"10.0.0.1", port}, ServerAddress{"10.0.0.2", port}}});
    ++port;
  }
  return layout;
}

std::string layout_test_key(int i) { return "key-" + std::to_string(i); }

}  // namespace

TEST_CASE("a cache layout survives encode and decode unchanged") {
  Layout layout = layout_of({"alpha", "beta", "g.3_x-y"}, 64);
  layout.version = 42;
  Result<Layout> back = decode_layout(encode_layout(layout));
  REQUIRE(back.ok());
  CHECK(*back == layout);

  Layout empty;
  empty.version = 7;
  Result<Layout> empty_back = decode_layout(encode_layout(empty));
  REQUIRE(empty_back.ok());
  CHECK(*empty_back == empty);
  CHECK(empty_back->groups.empty());
}

TEST_CASE("decode_layout refuses garbage, truncated and padded bytes") {
  CHECK(decode_layout("").status().code() == Errc::bad_request);
  CHECK(decode_layout("hello, world").status().code() == Errc::bad_request);
  CHECK(decode_layout(std::string(200, '\xff')).status().code() == Errc::bad_request);
  CHECK(decode_layout("\x01" + std::string(200, '\xff')).status().code() == Errc::bad_request);

  std::string bytes = encode_layout(layout_of({"alpha", "beta"}));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    Result<Layout> cut = decode_layout(std::string_view(bytes).substr(0, n));
    CHECK_MESSAGE(cut.status().code() == Errc::bad_request, "cut at " << n);
  }
  CHECK(decode_layout(bytes + '\0').status().code() == Errc::bad_request);

  std::string other_format = bytes;
  other_format[0] = 2;
  CHECK(decode_layout(other_format).status().message().find("unknown format 2") != std::string::npos);
}

TEST_CASE("decode_layout refuses bad names, duplicate or empty groups, and bad versions or vnodes") {
  auto refused = [](const Layout& layout, const char* needle) {
    Result<Layout> r = decode_layout(encode_layout(layout));
    CHECK(r.status().code() == Errc::bad_request);
    CHECK_MESSAGE(r.status().message().find(needle) != std::string::npos, r.status().message());
  };
  refused(layout_of({"alpha", "be ta"}), "'be ta'");
  refused(layout_of({"alpha", ""}), "group name ''");
  refused(layout_of({"alpha", std::string(65, 'x')}), "is not [A-Za-z0-9_.-]{1,64}");
  refused(layout_of({"alpha", "beta", "alpha"}), "'alpha' appears twice");

  Layout no_servers = layout_of({"alpha", "beta"});
  no_servers.groups[1].servers.clear();
  refused(no_servers, "'beta' has no servers");

  Layout zero_vnodes = layout_of({"alpha"}, 0);
  refused(zero_vnodes, "vnodes 0");
  Layout many_vnodes = layout_of({"alpha"}, 4097);
  refused(many_vnodes, "vnodes 4097");
  CHECK(decode_layout(encode_layout(layout_of({"alpha"}, 4096))).ok());

  Layout no_version = layout_of({"alpha"});
  no_version.version = 0;
  refused(no_version, "version");
}

TEST_CASE("group names are 1 to 64 letters, digits, '_', '.' or '-'") {
  CHECK(check_group_name("a").ok());
  CHECK(check_group_name("Group_1.eu-west").ok());
  CHECK(check_group_name(std::string(64, 'z')).ok());
  CHECK(check_group_name("").code() == Errc::bad_request);
  CHECK(check_group_name(std::string(65, 'z')).code() == Errc::bad_request);
  CHECK(check_group_name("a:b").code() == Errc::bad_request);
  CHECK(check_group_name("a/b").code() == Errc::bad_request);
  CHECK(check_group_name("caf\xc3\xa9").code() == Errc::bad_request);
  CHECK(check_group_name("bad name").message().find("'bad name'") != std::string::npos);
}

TEST_CASE("find_group finds a group by name and group_of by one of its servers") {
  Layout layout = layout_of({"alpha", "beta"});
  REQUIRE(layout.find_group("beta") != nullptr);
  CHECK(layout.find_group("beta") == &layout.groups[1]);
  CHECK(layout.find_group("gamma") == nullptr);
  CHECK(layout.group_of(ServerAddress{"10.0.0.2", 7001}) == &layout.groups[1]);
  CHECK(layout.group_of(ServerAddress{"10.0.0.1", 7000}) == &layout.groups[0]);
  CHECK(layout.group_of(ServerAddress{"10.0.0.1", 7002}) == nullptr);
  CHECK(layout.group_of(ServerAddress{"10.0.0.3", 7000}) == nullptr);
}

TEST_CASE("a group layout serializes its servers as host then port") {
  GroupLayout group{"alpha", {ServerAddress{"h", 0x0102}}};
  std::string bytes = core::encode(group);
  // name (u64 5 + "alpha"), server count (u64 1), host (u64 1 + "h"), port (u16 LE)
  CHECK(bytes.size() == 8 + 5 + 8 + 8 + 1 + 2);
  CHECK(static_cast<unsigned char>(bytes[bytes.size() - 2]) == 0x02);
  CHECK(static_cast<unsigned char>(bytes[bytes.size() - 1]) == 0x01);
  GroupLayout back;
  REQUIRE(core::decode(bytes, back, "group").ok());
  CHECK(back == group);
}

// These values are fixed forever: every process of a deployment must place keys the same
// way, so a change here is a change of the placement, not a refactor.
TEST_CASE("placement_hash is FNV-1a 64 with the fmix64 finalizer and never changes") {
  CHECK(placement_hash("") == 0xefd01f60ba992926ull);
  CHECK(placement_hash("a") == 0x82a2a958a9bece5bull);
  CHECK(placement_hash("user:42") == 0x998817bee6718248ull);
  CHECK(placement_hash("\xff\x80") == 0x0c1fbda391c27e28ull);
}

TEST_CASE("placement of keys is deterministic and pinned to known owners") {
  Layout layout = layout_of({"alpha", "beta", "gamma", "delta"});
  HashRing ring(layout);
  HashRing again(layout);
  CHECK(ring.version() == 1);
  CHECK(ring.groups() == std::vector<std::string>{"alpha", "beta", "gamma", "delta"});
  CHECK(ring.owner("user:1") == "gamma");
  CHECK(ring.owner("user:2") == "beta");
  CHECK(ring.owner("user:3") == "alpha");
  CHECK(ring.owner("session/abc") == "gamma");
  CHECK(ring.owner("x") == "delta");
  CHECK(ring.owner("") == "alpha");
  CHECK(ring.owner_index("x") == 3);
  for (int i = 0; i < 1000; ++i) CHECK(ring.owner(layout_test_key(i)) == again.owner(layout_test_key(i)));
}

TEST_CASE("four groups with 160 vnodes each get within 20 percent of an even share of keys") {
  HashRing ring(layout_of({"alpha", "beta", "gamma", "delta"}));
  std::map<std::string, int, std::less<>> counts;
  for (int i = 0; i < kLayoutTestKeys; ++i) ++counts[std::string(ring.owner(layout_test_key(i)))];
  REQUIRE(counts.size() == 4);
  const int even = kLayoutTestKeys / 4;
  for (const auto& entry : counts) {
    CHECK_MESSAGE(entry.second > even * 8 / 10, entry.first << " has " << entry.second);
    CHECK_MESSAGE(entry.second < even * 12 / 10, entry.first << " has " << entry.second);
  }
}

TEST_CASE("adding a second group moves about half the keys, all of them to the new group") {
  HashRing before(layout_of({"alpha"}));
  HashRing after(layout_of({"alpha", "beta"}));
  int moved = 0;
  for (int i = 0; i < kLayoutTestKeys; ++i) {
    std::string key = layout_test_key(i);
    CHECK(before.owner(key) == "alpha");
    if (before.owner(key) != after.owner(key)) {
      ++moved;
      REQUIRE(after.owner(key) == "beta");
    }
  }
  CHECK(moved > kLayoutTestKeys * 40 / 100);
  CHECK(moved < kLayoutTestKeys * 60 / 100);
}

TEST_CASE("adding a fifth group to four moves about a fifth of the keys, all of them to the new group") {
  HashRing before(layout_of({"alpha", "beta", "gamma", "delta"}));
  HashRing after(layout_of({"alpha", "beta", "gamma", "delta", "epsilon"}));
  int moved = 0;
  for (int i = 0; i < kLayoutTestKeys; ++i) {
    std::string key = layout_test_key(i);
    if (before.owner(key) != after.owner(key)) {
      ++moved;
      REQUIRE(after.owner(key) == "epsilon");
    }
  }
  CHECK(moved > kLayoutTestKeys * 15 / 100);
  CHECK(moved < kLayoutTestKeys * 25 / 100);
}

TEST_CASE("a pinned key goes to its group, and to no group when the layout lacks it") {
  HashRing ring(layout_of({"alpha", "beta", "gamma"}));
  std::string key = make_pinned_key("beta", "123");
  CHECK(key == "@beta:123");
  CHECK(pinned_group(key) == "beta");
  CHECK(ring.owner(key) == "beta");
  CHECK(ring.owner_index(key) == 1);
  for (int i = 0; i < 100; ++i) CHECK(ring.owner(make_pinned_key("gamma", std::to_string(i))) == "gamma");
  CHECK(ring.owner("@beta:") == "beta");
  CHECK(ring.owner("@beta:a:b") == "beta");

  CHECK(ring.owner("@omega:1").empty());
  CHECK(ring.owner_index("@omega:1") == -1);
}

TEST_CASE("keys that only look pinned are placed by the ring") {
  CHECK_FALSE(pinned_group("beta:1").has_value());
  CHECK_FALSE(pinned_group("@beta").has_value());
  CHECK_FALSE(pinned_group("@:1").has_value());
  CHECK_FALSE(pinned_group("@be ta:1").has_value());
  CHECK_FALSE(pinned_group("@" + std::string(65, 'a') + ":1").has_value());
  CHECK(pinned_group("@" + std::string(64, 'a') + ":1") == std::string(64, 'a'));

  HashRing ring(layout_of({"alpha", "beta"}));
  CHECK_FALSE(ring.owner("@beta").empty());
  CHECK_FALSE(ring.owner("@be ta:1").empty());
}

TEST_CASE("an empty layout owns no key") {
  HashRing none;
  CHECK(none.owner("anything").empty());
  CHECK(none.owner_index("anything") == -1);
  CHECK(none.version() == 0);

  Layout empty;
  empty.version = 3;
  HashRing ring(empty);
  CHECK(ring.owner("anything").empty());
  CHECK(ring.owner("@alpha:1").empty());
  CHECK(ring.version() == 3);
}
