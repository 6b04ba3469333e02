#include "core/metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

namespace fourinone::core {
namespace {

// Label values escape backslash, double quote and newline (the exposition format's rule).
void append_escaped(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// HELP text escapes backslash and newline only.
std::string escape_help(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Whole numbers (most of ours) print without an exponent or a fraction.
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
    return buffer;
  }
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.15g", value);
  return buffer;
}

void append_sample(std::string& out, std::string_view name, const MetricLabels& labels, std::string_view value,
                   const std::pair<std::string, std::string>* extra = nullptr) {
  out += name;
  if (!labels.empty() || extra) {
    out += '{';
    bool first = true;
    auto add = [&](const std::pair<std::string, std::string>& label) {
      if (!first) out += ',';
      first = false;
      out += label.first;
      out += "=\"";
      append_escaped(out, label.second);
      out += '"';
    };
    for (const auto& label : labels) add(label);
    if (extra) add(*extra);
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

void Histogram::observe(std::chrono::nanoseconds elapsed) noexcept {
  const auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(0, elapsed.count()));
  const double seconds = static_cast<double>(ns) / 1e9;
  const auto bucket = static_cast<std::size_t>(std::lower_bound(kBounds.begin(), kBounds.end(), seconds) -
                                               kBounds.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

void Histogram::observe_seconds(double seconds) noexcept {
  observe(std::chrono::nanoseconds(static_cast<std::int64_t>(std::max(0.0, seconds) * 1e9)));
}

Histogram::Snapshot Histogram::snapshot() const noexcept {
  Snapshot s;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running + buckets_[kBounds.size()].load(std::memory_order_relaxed);
  s.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

MetricsWriter::Family& MetricsWriter::family(std::string_view name, std::string_view help, const char* type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{type, escape_help(help), {}}).first;
    order_.emplace_back(name);
  }
  return it->second;
}

void MetricsWriter::counter(std::string_view name, std::string_view help, double value, const MetricLabels& labels) {
  append_sample(family(name, help, "counter").samples, name, labels, format_number(value));
}

void MetricsWriter::gauge(std::string_view name, std::string_view help, double value, const MetricLabels& labels) {
  append_sample(family(name, help, "gauge").samples, name, labels, format_number(value));
}

void MetricsWriter::histogram(std::string_view name, std::string_view help, const Histogram& histogram,
                              const MetricLabels& labels) {
  auto& samples = family(name, help, "histogram").samples;
  const auto snap = histogram.snapshot();
  const std::string bucket_name = std::string(name) + "_bucket";
  for (std::size_t i = 0; i < Histogram::kBounds.size(); ++i) {
    const std::pair<std::string, std::string> le{"le", format_number(Histogram::kBounds[i])};
    append_sample(samples, bucket_name, labels, format_number(static_cast<double>(snap.cumulative[i])), &le);
  }
  const std::pair<std::string, std::string> inf{"le", "+Inf"};
  append_sample(samples, bucket_name, labels, format_number(static_cast<double>(snap.count)), &inf);
  append_sample(samples, std::string(name) + "_sum", labels, format_number(snap.sum_seconds));
  append_sample(samples, std::string(name) + "_count", labels, format_number(static_cast<double>(snap.count)));
}

std::string MetricsWriter::text() const {
  std::string out;
  for (const auto& name : order_) {
    const auto& f = families_.find(name)->second;
    out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " " + f.type + "\n";
    out += f.samples;
  }
  return out;
}

void write_process_metrics(MetricsWriter& out, std::string_view role, std::string_view version,
                           std::string_view commit) {
  out.gauge("fourinone_build_info", "Always 1; the labels say which build and role this process runs.", 1,
            {{"role", std::string(role)}, {"version", std::string(version)}, {"commit", std::string(commit)}});
  // The start time: the 22nd field of /proc/self/stat, in clock ticks after boot.
  static const double start_time = [] {
    std::ifstream stat("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos) return 0.0;
    std::vector<std::string> fields;
    std::string field;
    for (std::size_t i = close + 2; i <= text.size(); ++i) {
      if (i == text.size() || text[i] == ' ') {
        fields.push_back(field);
        field.clear();
      } else {
        field += text[i];
      }
    }
    // After ") ": field 3 (state) is fields[0], so field 22 (starttime) is fields[19].
    if (fields.size() < 20) return 0.0;
    double ticks = std::strtod(fields[19].c_str(), nullptr);
    double boot = 0;
    std::ifstream proc_stat("/proc/stat");
    std::string key;
    while (proc_stat >> key) {
      if (key == "btime") {
        proc_stat >> boot;
        break;
      }
    }
    return boot + ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
  }();
  out.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", start_time);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  out.counter("process_cpu_seconds_total", "User and system CPU time the process spent, in seconds.", cpu);
  std::ifstream statm("/proc/self/statm");
  double size_pages = 0;
  double resident_pages = 0;
  statm >> size_pages >> resident_pages;
  out.gauge("process_resident_memory_bytes", "Resident memory of the process, in bytes.",
            resident_pages * static_cast<double>(sysconf(_SC_PAGESIZE)));
  double fds = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++fds;
    }
    closedir(dir);
    fds -= 1;  // the directory stream's own descriptor
  }
  out.gauge("process_open_fds", "Open file descriptors of the process.", fds);
}

void write_net_metrics(MetricsWriter& out, const NetStats& stats) {
  out.counter("fourinone_net_received_bytes_total", "Bytes of frames received on this server's port.",
              stats.received_bytes);
  out.counter("fourinone_net_sent_bytes_total", "Bytes of frames sent from this server's port.",
              stats.sent_bytes);
  out.counter("fourinone_net_accepted_connections_total", "Connections accepted.",
              stats.accepted);
  out.gauge("fourinone_net_connections", "Connections open now.",
            static_cast<double>(stats.open.load(std::memory_order_relaxed)));
}

}  // namespace fourinone::core
