// The percentile of a set of samples, as every bench program reports its latencies.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace bench {

// The sample at rank p (0..1) of the sorted samples (the lower one between two); 0 when none.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace bench
