// config.xml: the XML reader and every row's checks.
#include "fourinone/config.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fourinone;
  auto config = parse_config(fuzz::view(data, size), "fuzz.xml", "/nonexistent/fourinone-fuzz");
  if (!config.ok() && config.status().code() != Errc::config_error) __builtin_trap();
  if (!config.ok() && config.status().message().rfind("fuzz.xml", 0) != 0) __builtin_trap();  // names the file
  return 0;
}
