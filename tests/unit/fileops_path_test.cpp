// Path resolution of the file server: the lexical table of escape attempts (path_check) and
// the kernel-checked half (RootFs) against real folders with symlinks, fifos and devices.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "fileops/path/path_check.hpp"
#include "fileops/path/root_fs.hpp"
#include "tests/support/process.hpp"

using fourinone::Errc;
using fourinone::fileops::check_file_name;
using fourinone::fileops::normalize_relative_path;
using fourinone::fileops::RootFs;
using fourinone::fileops::RootSpec;

TEST_CASE("normalize_relative_path refuses every lexical escape attempt with a clear error") {
  struct Row {
    std::string path;
    Errc code;
    std::string says;
  };
  std::vector<Row> table{
      {"..", Errc::no_permission, "'..'"},
      {"../etc/passwd", Errc::no_permission, "'..'"},
      {"a/../../etc", Errc::no_permission, "'..'"},
      {"a/..", Errc::no_permission, "'..'"},
      {"./..", Errc::no_permission, "'..'"},
      {"a/b/../../..", Errc::no_permission, "'..'"},
      {"/etc/passwd", Errc::no_permission, "absolute"},
      {"//etc", Errc::no_permission, "absolute"},
      {std::string("a\0b", 3), Errc::bad_request, "control"},
      {"a\nb", Errc::bad_request, "control"},
      {"a\x7f", Errc::bad_request, "control"},
      {std::string(256, 'x'), Errc::bad_request, "255"},
      {"a/" + std::string(300, 'y') + "/b", Errc::bad_request, "255"},
      {std::string(4096, 'a'), Errc::bad_request, "4095"},
  };
  for (const auto& row : table) {
    auto r = normalize_relative_path(row.path);
    INFO("path: " << row.path.substr(0, 40));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == row.code);
    CHECK(r.status().message().find(row.says) != std::string::npos);
  }
}

TEST_CASE("normalize_relative_path keeps harmless forms") {
  CHECK(normalize_relative_path("").value() == "");
  CHECK(normalize_relative_path(".").value() == "");
  CHECK(normalize_relative_path("a//b/./c/").value() == "a/b/c");
  CHECK(normalize_relative_path("..a/b..").value() == "..a/b..");  // names that merely start with dots
  CHECK(normalize_relative_path("caf\xc3\xa9 menu.txt").value() == "caf\xc3\xa9 menu.txt");
  CHECK(normalize_relative_path(std::string(255, 'x')).ok());
}

TEST_CASE("check_file_name refuses dots, slashes, control characters and long names") {
  CHECK(check_file_name("ok.txt").ok());
  CHECK(check_file_name("").code() == Errc::bad_request);
  CHECK(check_file_name("..").code() == Errc::no_permission);
  CHECK(check_file_name(".").code() == Errc::no_permission);
  CHECK(check_file_name("a/b").code() == Errc::bad_request);
  CHECK(check_file_name("a\tb").code() == Errc::bad_request);
  CHECK(check_file_name(std::string(256, 'n')).code() == Errc::bad_request);
}

namespace {

struct RootTree {
  fourinone::test::TempDir dir;
  std::string root;
  RootTree() : root(dir.file("root")) {
    ::mkdir(root.c_str(), 0755);
    ::mkdir((root + "/sub").c_str(), 0755);
    fourinone::test::write_file(root + "/sub/in.txt", "inside");
    fourinone::test::write_file(dir.file("secret.txt"), "outside");
    REQUIRE(::symlink("../secret.txt", (root + "/up_link").c_str()) == 0);
    REQUIRE(::symlink("/etc/passwd", (root + "/abs_link").c_str()) == 0);
    REQUIRE(::symlink("sub/in.txt", (root + "/good_link").c_str()) == 0);
    REQUIRE(::symlink("..", (root + "/sub/dotdot_link").c_str()) == 0);  // stays inside: root itself
    REQUIRE(::symlink("../..", (root + "/sub/out_dir").c_str()) == 0);
    REQUIRE(::mkfifo((root + "/fifo").c_str(), 0644) == 0);
  }
  RootFs open() {
    auto fs = RootFs::open(RootSpec{"r", root, false});
    REQUIRE_MESSAGE(fs.ok(), fs.status().to_string());
    return fs.value();
  }
};

}  // namespace

TEST_CASE("RootFs refuses symlinks that lead out of the root and follows those that stay in") {
  RootTree tree;
  RootFs fs = tree.open();
  struct stat st{};
  for (const char* escape : {"up_link", "abs_link", "sub/out_dir/secret.txt", "sub/out_dir"}) {
    INFO(escape);
    auto fd = fs.open_file(escape, O_RDONLY, st, true);
    REQUIRE_FALSE(fd.ok());
    CHECK(fd.status().code() == Errc::no_permission);
  }
  CHECK(fs.open_file("good_link", O_RDONLY, st).ok());
  CHECK(fs.open_file("sub/dotdot_link/sub/in.txt", O_RDONLY, st).ok());
  // Creating through an escaping symlink is refused as well: nothing appears outside.
  auto created = fs.open_file("sub/out_dir/new.txt", O_WRONLY | O_CREAT, st);
  CHECK(created.status().code() == Errc::no_permission);
  CHECK(::access(tree.dir.file("new.txt").c_str(), F_OK) != 0);
}

TEST_CASE("RootFs refuses fifos and devices without blocking, and names a missing file") {
  RootTree tree;
  RootFs fs = tree.open();
  struct stat st{};
  auto fifo = fs.open_file("fifo", O_RDONLY, st);
  CHECK(fifo.status().code() == Errc::no_permission);
  CHECK(fifo.status().message().find("fifo") != std::string::npos);
  auto fifo_w = fs.open_file("fifo", O_WRONLY, st);  // no reader: the kernel says ENXIO
  CHECK(fifo_w.status().code() == Errc::no_permission);
  auto missing = fs.open_file("sub/none.txt", O_RDONLY, st);
  CHECK(missing.status().code() == Errc::not_found);
  CHECK(missing.status().message().find("r/sub/none.txt") != std::string::npos);
  CHECK(fs.open_file("sub", O_RDONLY, st).status().code() == Errc::bad_request);  // a folder
}

TEST_CASE("RootFs without openat2 refuses every symlink, inside or out") {
  RootTree tree;
  RootFs fs = tree.open();
  RootFs::TEST_force_walk(true);
  struct stat st{};
  CHECK(fs.open_file("up_link", O_RDONLY, st).status().code() == Errc::no_permission);
  CHECK(fs.open_file("sub/out_dir/secret.txt", O_RDONLY, st).status().code() == Errc::no_permission);
  CHECK(fs.open_file("good_link", O_RDONLY, st).status().code() == Errc::no_permission);
  CHECK(fs.open_file("sub/in.txt", O_RDONLY, st).ok());
  RootFs::TEST_force_walk(false);
}

TEST_CASE("RootFs::open_parent refuses the root itself and gives the folder of a path") {
  RootTree tree;
  RootFs fs = tree.open();
  CHECK(fs.open_parent("").status().code() == Errc::no_permission);
  auto parent = fs.open_parent("sub/in.txt");
  REQUIRE(parent.ok());
  CHECK(parent->second == "in.txt");
  CHECK(fs.open_parent("up_link/x").status().code() == Errc::no_permission);
}
