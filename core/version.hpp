// The version and git commit of this build, for `fourinone --version` and /metrics
// (fourinone_build_info). Defined in build_info.cpp, which the build writes into the build
// folder (cmake/BuildInfo.cmake), so the commit is the one the library was built from.
#pragma once

namespace fourinone::core {

const char* build_version();  // the CMake project version, e.g. "0.1.0"
const char* build_commit();   // short git hash ("-dirty" with local changes), or "unknown"

}  // namespace fourinone::core
