// What `fourinone --version` prints. Defined in build_info.cpp, which the build writes into the
// build folder (cmake/BuildInfo.cmake) so that the commit is the one the binary was built from.
#pragma once

namespace fourinone::cli {

extern const char kBuildVersion[];  // the CMake project version, e.g. "0.1.0"
extern const char kBuildCommit[];   // short git hash, with "-dirty" for local changes; or "unknown"

}  // namespace fourinone::cli
