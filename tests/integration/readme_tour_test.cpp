// The README's C++ tour is samples/park_tour verbatim, and it runs against a real server.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/park_fixture.hpp"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot read " << path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The text between two markers (exclusive), or "" if either is missing.
std::string between(const std::string& text, const std::string& open, const std::string& close,
                    std::size_t from = 0) {
  auto b = text.find(open, from);
  if (b == std::string::npos) return "";
  b += open.size();
  auto e = text.find(close, b);
  return e == std::string::npos ? "" : text.substr(b, e - b);
}

}  // namespace

TEST_CASE("the README's C++ tour is the park_tour sample, word for word") {
  std::string sample = read_file(FOURINONE_SOURCE_DIR "/samples/park_tour/park_tour.cpp");
  std::string readme = read_file(FOURINONE_SOURCE_DIR "/README.md");
  std::string tour = between(sample, "// [tour]\n", "// [/tour]\n");
  REQUIRE(!tour.empty());
  auto section = readme.find("## The park in C++");
  REQUIRE(section != std::string::npos);
  CHECK(between(readme, "```cpp\n", "```\n", section) == tour);
}

TEST_CASE("the park_tour sample runs against a real server") {
  fourinone::test::RunningPark park;
  auto run = fourinone::test::run_program({FOURINONE_BINARY_DIR "/samples/park_tour", "--config", park.config.path});
  INFO(run.err);
  CHECK(run.code == 0);
  CHECK(run.out.find("hangzhou: yuhang (version 2)") != std::string::npos);
  CHECK(run.out.find("newer than version 1: yuhang") != std::string::npos);
  CHECK(run.out.find("transaction at revision") != std::string::npos);
  CHECK(run.out.find("event updated hangzhou") != std::string::npos);
  CHECK(run.out.find("event created log") != std::string::npos);
  // The domain is gone and the sample's heartbeat node went with its session.
  auto p = park.connect();
  CHECK(p->list("zhejiang").status().code() == fourinone::Errc::not_found);
  CHECK(p->get("group", "me").status().code() == fourinone::Errc::not_found);
}
