// crc32c_bench: our CRC-32C (park/log/crc32c.cpp) against the packaged ones Debian 12 has, to
// decide whether ours should go (issue 18). Debian 12 has no Google crc32c package; the
// candidates are Boost.CRC (boost/crc.hpp, header-only) and crcutil (libcrcutil-dev, when
// installed: its SSE4.2 Crc32cSSE4).
//
//   crc32c_bench [--runs N] [--mib-per-run M]
//
// For 4 KiB and 1 MiB buffers of random bytes, each function checksums M MiB (default 256) per
// run, N runs (default 7), and the median run's GB/s is printed. Time is the thread's CPU time,
// so a machine busy with other work slows the figures less (wall time is printed beside). Every candidate is first held
// to our answer on each buffer, and on every length 0..64. Figures only; nothing is asserted
// about speed.
#include <time.h>

#include <algorithm>
#include <boost/crc.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "park/log/crc32c.hpp"

#ifdef FOURINONE_HAVE_CRCUTIL
// Its header needs -msse4.2 for its crc32 intrinsics, or this: the same instruction as inline
// asm. Only declarations come from it; the timed code is the compiled library's.
#define CRCUTIL_FORCE_ASM_CRC32C 1
#include <crcutil/crc32c_sse4.h>
#endif

namespace {

using Crc = std::function<std::uint32_t(std::string_view)>;

struct Candidate {
  std::string name;
  Crc crc;
};

std::uint32_t boost_crc32c(std::string_view data) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double thread_cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

struct Rate {
  double cpu_gbps;   // bytes per second of this thread's CPU time, 10^9
  double wall_gbps;  // bytes per second of wall time, 10^9
};

// The GB/s of `crc` over `buffer`, repeated to `bytes_per_run`, median of `runs`.
Rate measure(const Crc& crc, std::string_view buffer, std::size_t bytes_per_run, int runs) {
  const std::size_t repeats = std::max<std::size_t>(1, bytes_per_run / buffer.size());
  const double bytes = static_cast<double>(repeats * buffer.size());
  std::vector<double> cpu_rates;
  std::vector<double> wall_rates;
  volatile std::uint32_t sink = 0;
  for (int r = 0; r < runs; ++r) {
    auto wall_start = std::chrono::steady_clock::now();
    double cpu_start = thread_cpu_seconds();
    std::uint32_t acc = 0;
    for (std::size_t i = 0; i < repeats; ++i) acc ^= crc(buffer);
    double cpu = thread_cpu_seconds() - cpu_start;
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    sink = sink ^ acc;
    cpu_rates.push_back(bytes / cpu / 1e9);
    wall_rates.push_back(bytes / wall / 1e9);
  }
  return Rate{median(cpu_rates), median(wall_rates)};
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 7;
  std::size_t mib_per_run = 256;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--runs") == 0) {
      runs = std::max(1, std::atoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--mib-per-run") == 0) {
      mib_per_run = static_cast<std::size_t>(std::max(1, std::atoi(argv[i + 1])));
    } else {
      std::fprintf(stderr, "usage: crc32c_bench [--runs N] [--mib-per-run M]\n");
      return 2;
    }
  }

  std::vector<Candidate> candidates;
  candidates.push_back({"ours (crc32c: sse4.2 if the CPU has it)", [](std::string_view d) { return fourinone::park::crc32c(d); }});
  candidates.push_back({"ours, tables (slicing by 8)", [](std::string_view d) { return fourinone::park::crc32c_tables(d); }});
  candidates.push_back({"Boost.CRC crc_optimal (boost 1.74)", &boost_crc32c});
#ifdef FOURINONE_HAVE_CRCUTIL
  // Crc32cSSE4 runs the crc32 instruction unconditionally; it is only timed where it may run.
  auto crcutil = std::make_unique<crcutil::Crc32cSSE4>(/*canonical=*/true);
  if (crcutil::Crc32cSSE4::IsSSE42Available()) {
    candidates.push_back({"crcutil Crc32cSSE4 (libcrcutil 1.0)", [c = crcutil.get()](std::string_view d) {
                            return static_cast<std::uint32_t>(c->CrcDefault(d.data(), d.size(), 0));
                          }});
  }
#else
  std::printf("(crcutil not built in: install libcrcutil-dev and reconfigure to time it)\n");
#endif

  std::mt19937_64 rng(18);
  std::string big(1 << 20, '\0');
  for (auto& c : big) c = static_cast<char>(rng());
  const std::vector<std::pair<std::string, std::string_view>> buffers = {{"4 KiB", std::string_view(big).substr(0, 4096)},
                                                                          {"1 MiB", std::string_view(big)}};

  // Same answers first: the standard check value, every short length, both buffers.
  bool same = true;
  for (const auto& c : candidates) {
    if (c.crc("123456789") != 0xE3069283u) {
      std::printf("MISMATCH: %s gives %08x for \"123456789\"\n", c.name.c_str(), c.crc("123456789"));
      same = false;
    }
    for (std::size_t n = 0; n <= 64; ++n) {
      std::string_view d = std::string_view(big).substr(1, n);  // unaligned on purpose
      if (c.crc(d) != fourinone::park::crc32c(d)) {
        std::printf("MISMATCH: %s on %zu bytes\n", c.name.c_str(), n);
        same = false;
      }
    }
    for (const auto& [label, buffer] : buffers) {
      if (c.crc(buffer) != fourinone::park::crc32c(buffer)) {
        std::printf("MISMATCH: %s on %s\n", c.name.c_str(), label.c_str());
        same = false;
      }
    }
  }
  if (!same) return 1;
  std::printf("all candidates agree with ours (check value, lengths 0-64, both buffers)\n");
  std::printf("median of %d runs, %zu MiB a run, GB/s (10^9 bytes per second of CPU; wall time in brackets):\n",
              runs, mib_per_run);
  std::printf("%-42s %18s %18s\n", "function", "4 KiB", "1 MiB");
  for (const auto& c : candidates) {
    std::printf("%-42s", c.name.c_str());
    for (const auto& [label, buffer] : buffers) {
      Rate rate = measure(c.crc, buffer, mib_per_run << 20, runs);
      std::printf(" %8.2f (%6.2f)", rate.cpu_gbps, rate.wall_gbps);
    }
    std::printf("\n");
  }
  return 0;
}
