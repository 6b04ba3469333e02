// The servers' and the whole machine's CPU, printed beside the load generator's for the
// throughput rows: with all of them on the same two cores, a figure means something only next
// to who used the cores, including processes that are none of the three (another build).
#pragma once

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace peers {

// Seconds of CPU (user + system, all threads) used so far by the process `pid`; 0 when it is
// gone. From /proc/PID/stat: utime and stime are the 14th and 15th fields, counted after the
// command name, which is in parentheses and may itself hold spaces.
inline double process_cpu_seconds(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto end_of_name = stat.rfind(')');
  if (end_of_name == std::string::npos) return 0;
  std::istringstream fields(stat.substr(end_of_name + 2));  // from field 3, the state
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The sum over the servers whose pids are in CONTROL/0.pid .. CONTROL/2.pid (bench/peers.sh
// writes them); 0 without a control folder.
inline double servers_cpu_seconds(const std::string& control) {
  double sum = 0;
  for (int i = 0; i < 3 && !control.empty(); ++i) {
    std::ifstream pid_file(control + "/" + std::to_string(i) + ".pid");
    long pid = 0;
    if (pid_file >> pid && pid > 0) sum += process_cpu_seconds(pid);
  }
  return sum;
}

// Seconds of CPU the whole machine spent busy so far, all cores: user, nice, system, irq,
// softirq and steal time of /proc/stat's first line.
inline double machine_busy_seconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (!(in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) || cpu != "cpu") return 0;
  return static_cast<double>(user + nice + system + irq + softirq + steal) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace peers
