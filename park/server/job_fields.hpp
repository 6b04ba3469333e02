// The fields of a job's progress node ("done=3 total=10 failed=0 ...", worker/job.cpp's
// JobProgress::encode) by name, for the status page and /metrics. Pure.
#pragma once

#include <map>
#include <string>

namespace fourinone::park {

inline std::map<std::string, std::string> job_fields(const std::string& text) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    const std::string part = text.substr(pos, end - pos);
    if (auto eq = part.find('='); eq != std::string::npos) out[part.substr(0, eq)] = part.substr(eq + 1);
    pos = end + 1;
  }
  return out;
}

}  // namespace fourinone::park
