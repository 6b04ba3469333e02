// The lexical half of path resolution: what a client may name inside a root, checked before
// the file system is touched. Pure functions of the text (no system calls), thread-safe.
//
// A path is relative to its root: "a/b/c". Empty and "." components are dropped ("a//./b" is
// "a/b"); what is left must not climb ("..": no_permission), must not be absolute (a leading
// '/': no_permission), and must be well formed (bad_request): no NUL or other control
// characters, each name at most NAME_MAX (255) bytes, the whole at most PATH_MAX - 1 (4095).
// Symlinks are the other half (root_fs.hpp): only the kernel can say where they lead.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "fourinone/error.hpp"

namespace fourinone::fileops {

inline constexpr std::size_t kMaxNameBytes = 255;   // NAME_MAX on Linux
inline constexpr std::size_t kMaxPathBytes = 4095;  // PATH_MAX - 1 (the terminating NUL)
inline constexpr std::size_t kMaxRootName = 64;

// The normalized relative path ("" names the root itself), or the refusal.
Result<std::string> normalize_relative_path(std::string_view path);

// One file name (the last component of a path to create, rename or remove): not empty, not
// "." or "..", no '/', no control characters, at most kMaxNameBytes.
Status check_file_name(std::string_view name);

// A root's name in config.xml and in URLs: 1..64 letters, digits, '_', '-' or '.', not "."
// or "..".
Status check_root_name(std::string_view name);

// The folder part and the last name of a normalized, non-empty path: "a/b/c" -> {"a/b", "c"}.
std::pair<std::string, std::string> split_parent(const std::string& normalized);

}  // namespace fourinone::fileops
