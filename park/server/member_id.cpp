#include "park/server/member_id.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fourinone::park {

namespace {
std::string path_in(const std::string& dir) { return dir + "/MEMBER_ID"; }
}  // namespace

Result<std::optional<raft::NodeId>> read_member_id(const std::string& dir) {
  const std::string path = path_in(dir);
  std::ifstream in(path);
  if (!in) {
    if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) return std::optional<raft::NodeId>();
    return Status(Errc::internal, "cannot read " + path + ": " + std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  raft::NodeId id = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
  if (ec != std::errc() || end != s.data() + s.size() || id == 0) {
    return Status(Errc::internal, path + " is damaged: expected a positive server id, found '" + s + "'");
  }
  return std::optional<raft::NodeId>(id);
}

Status write_member_id(const std::string& dir, raft::NodeId id) {
  const std::string path = path_in(dir);
  const std::string tmp = path + ".tmp";
  const std::string text = std::to_string(id) + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status(Errc::internal, "cannot write " + tmp + ": " + std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) return Status(Errc::internal, "cannot write " + tmp + ": " + std::strerror(err));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status(Errc::internal, "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  }
  // The rename itself is durable only once the directory is.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace fourinone::park
