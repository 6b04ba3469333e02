#include "fileops/path/path_check.hpp"

namespace fourinone::fileops {
namespace {

std::string quoted(std::string_view text) {
  std::string out = "'";
  for (char c : text.substr(0, 80)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  if (text.size() > 80) out += "...";
  return out + "'";
}

bool has_control(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

}  // namespace

Result<std::string> normalize_relative_path(std::string_view path) {
  if (path.size() > kMaxPathBytes) {
    return Status(Errc::bad_request, "path of " + std::to_string(path.size()) + " bytes is longer than the limit of " +
                                         std::to_string(kMaxPathBytes));
  }
  if (has_control(path)) return Status(Errc::bad_request, "path " + quoted(path) + " holds a NUL or control character");
  if (!path.empty() && path.front() == '/') {
    return Status(Errc::no_permission, "absolute path " + quoted(path) + " refused: paths are relative to their root");
  }
  std::string out;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    std::string_view name = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    start = slash == std::string_view::npos ? path.size() + 1 : slash + 1;
    if (name.empty() || name == ".") continue;
    if (name == "..") return Status(Errc::no_permission, "path " + quoted(path) + " refused: '..' may not leave a root");
    if (name.size() > kMaxNameBytes) {
      return Status(Errc::bad_request, "name " + quoted(name) + " in path is " + std::to_string(name.size()) +
                                           " bytes; the limit is " + std::to_string(kMaxNameBytes));
    }
    if (!out.empty()) out += '/';
    out.append(name);
  }
  return out;
}

Status check_file_name(std::string_view name) {
  if (name.empty()) return Status(Errc::bad_request, "empty file name");
  if (name == "." || name == "..") return Status(Errc::no_permission, "file name " + quoted(name) + " refused");
  if (name.find('/') != std::string_view::npos) return Status(Errc::bad_request, "file name " + quoted(name) + " holds '/'");
  if (has_control(name)) return Status(Errc::bad_request, "file name " + quoted(name) + " holds a control character");
  if (name.size() > kMaxNameBytes) {
    return Status(Errc::bad_request, "file name of " + std::to_string(name.size()) + " bytes; the limit is " +
                                         std::to_string(kMaxNameBytes));
  }
  return {};
}

Status check_root_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxRootName && name != "." && name != "..";
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                c == '.');
  }
  if (!ok) {
    return Status(Errc::bad_request, "root name " + quoted(name) + " must be 1 to " + std::to_string(kMaxRootName) +
                                         " letters, digits, '_', '-' or '.'");
  }
  return {};
}

std::pair<std::string, std::string> split_parent(const std::string& normalized) {
  auto slash = normalized.rfind('/');
  if (slash == std::string::npos) return {"", normalized};
  return {normalized.substr(0, slash), normalized.substr(slash + 1)};
}

}  // namespace fourinone::fileops
