// Splitting a byte stream into lines and records wherever the blocks happen to end, and the
// fttp URL form.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "fileops/client/record_splitter.hpp"
#include "fourinone/fileops.hpp"

using fourinone::Errc;
using fourinone::FttpUrl;
using fourinone::fileops::RecordSplitter;

namespace {

std::vector<std::string> split_in_blocks(const std::string& text, std::size_t block, char delimiter, bool strip_cr) {
  std::vector<std::string> out;
  RecordSplitter splitter(delimiter, strip_cr);
  auto each = [&](std::string_view r) {
    out.emplace_back(r);
    return true;
  };
  for (std::size_t at = 0; at < text.size(); at += block) splitter.feed(std::string_view(text).substr(at, block), each);
  splitter.finish(each);
  return out;
}

}  // namespace

TEST_CASE("records are the same whatever the block size, delimiters on block edges included") {
  const std::string text = "alpha\nbe\n\ngamma delta\r\nlast-without-newline";
  const std::vector<std::string> want{"alpha", "be", "", "gamma delta", "last-without-newline"};
  for (std::size_t block = 1; block <= text.size() + 1; ++block) {
    INFO("block size " << block);
    CHECK(split_in_blocks(text, block, '\n', true) == want);
  }
}

TEST_CASE("a delimiter at the very end gives no empty last record and a record may span many blocks") {
  std::string long_record(1000, 'x');
  std::string text = "a;" + long_record + ";b;";
  for (std::size_t block : {1, 3, 7, 64, 1000, 5000}) {
    CHECK(split_in_blocks(text, block, ';', false) == std::vector<std::string>{"a", long_record, "b"});
  }
  CHECK(split_in_blocks("", 4, ';', false).empty());
  CHECK(split_in_blocks(";", 4, ';', false) == std::vector<std::string>{""});
}

TEST_CASE("a '\\r' split from its '\\n' by a block edge is still dropped from a line, kept in a record") {
  CHECK(split_in_blocks("ab\r\ncd", 3, '\n', true) == std::vector<std::string>{"ab", "cd"});
  CHECK(split_in_blocks("ab\r;cd", 3, ';', false) == std::vector<std::string>{"ab\r", "cd"});
}

TEST_CASE("the splitter stops when asked") {
  RecordSplitter splitter('\n', false);
  int seen = 0;
  auto each = [&](std::string_view) { return ++seen < 2; };
  CHECK_FALSE(splitter.feed("1\n2\n3\n", each));
  CHECK(seen == 2);
  CHECK_FALSE(splitter.finish(each));
}

TEST_CASE("fttp URLs parse, print and refuse what is wrong with a clear error") {
  auto u = FttpUrl::parse("FTTP://10.0.0.5:2122/shared/a//b/./c%20d.txt");
  REQUIRE_MESSAGE(u.ok(), u.status().to_string());
  CHECK(u->host == "10.0.0.5");
  CHECK(u->port == 2122);
  CHECK(u->root == "shared");
  CHECK(u->path == "a/b/c d.txt");
  CHECK(u->to_string() == "fttp://10.0.0.5:2122/shared/a/b/c%20d.txt");
  CHECK(FttpUrl::parse(u->to_string())->path == u->path);
  CHECK(FttpUrl::parse("fttp://h")->port == fourinone::kDefaultFttpPort);
  CHECK(FttpUrl::parse("fttp://h:9/")->root.empty());
  CHECK(FttpUrl::parse("fttp://h:9/r")->child("x").to_string() == "fttp://h:9/r/x");
  struct Bad {
    std::string url;
    Errc code;
    std::string says;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"http://h:1/r/a", Errc::bad_request, "scheme"},
           {"fttp://", Errc::bad_request, "no host"},
           {"fttp://h:99999/r", Errc::bad_request, "h:99999"},
           {"fttp://h:1/r/a%2", Errc::bad_request, "hex"},
           {"fttp://h:1/r/a?x", Errc::bad_request, "%3F"},
           {"fttp://h:1/r/../etc", Errc::no_permission, "'..'"},
           {"fttp://h:1/r/a%2F..%2F..", Errc::no_permission, "'..'"},
           {"fttp://h:1/r/a%00b", Errc::bad_request, "control"},
           {"fttp://h:1/bad%20root/a", Errc::bad_request, "root name"},
       }) {
    INFO(bad.url);
    auto r = FttpUrl::parse(bad.url);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == bad.code);
    CHECK(r.status().message().find(bad.says) != std::string::npos);
  }
}
