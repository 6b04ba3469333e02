// The version and git commit of this build, for /metrics (fourinone_build_info) and
// `fourinone --version`.
#pragma once

namespace fourinone::core {

const char* build_version();  // the CMake project version, e.g. "0.1.0"
const char* build_commit();   // short git hash ("-dirty" with local changes), or "unknown"

}  // namespace fourinone::core
