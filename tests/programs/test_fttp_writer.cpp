// A client that dies in the middle of a two-phase write, for the fileops tests:
// `fourinone_test_fttp_writer URL BYTES`. Opens a writer on URL, appends BYTES bytes of 'n'
// (never committed), prints "half" and sleeps until killed. The test watches the server's
// temporary file grow to BYTES before it kills this process.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "fourinone/fileops.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s URL BYTES\n", argv[0]);
    return 2;
  }
  auto url = fourinone::FttpUrl::parse(argv[1]);
  if (!url.ok()) {
    std::fprintf(stderr, "%s\n", url.status().to_string().c_str());
    return 2;
  }
  fourinone::FttpOptions options;
  options.chunk = 64 << 10;
  auto client = fourinone::Fttp::connect(options);
  auto writer = client.value()->open_writer(url.value());
  if (!writer.ok()) {
    std::fprintf(stderr, "%s\n", writer.status().to_string().c_str());
    return 1;
  }
  std::string data(static_cast<std::size_t>(std::atoll(argv[2])), 'n');
  if (auto s = writer.value()->append(data); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return 1;
  }
  std::printf("half\n");
  std::fflush(stdout);
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(60));
}
