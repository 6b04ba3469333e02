#include "core/version.hpp"

namespace fourinone::core {

const char* build_version() { return FOURINONE_VERSION; }
const char* build_commit() { return "unknown"; }

}  // namespace fourinone::core
