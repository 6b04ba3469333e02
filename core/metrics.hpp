// Metrics in the Prometheus text format (version 0.0.4), served at /metrics by every role's
// HTTP port (core/http_server.hpp).
//
// Counter and Histogram are live values that any thread may bump (relaxed atomics: a scrape
// sees each value whole, not all of them at one instant). Gauges are read when a scrape
// comes, so they need no storage here. MetricsWriter renders one scrape: every sample of a
// family is written under one HELP/TYPE header, whatever order the caller adds them in.
//
// Names follow Prometheus's conventions: fourinone_<part>_<what>_<unit>, counters end in
// _total, durations are in seconds and sizes in bytes.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fourinone::core {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// Durations from 100 µs to 10 s, in seconds: the range of a park request, an fsync or a task.
class Histogram {
 public:
  static constexpr std::array<double, 16> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};
  void observe(std::chrono::nanoseconds elapsed) noexcept;
  void observe_seconds(double seconds) noexcept;

  struct Snapshot {
    std::array<std::uint64_t, kBounds.size()> cumulative{};  // observations <= each bound
    std::uint64_t count = 0;
    double sum_seconds = 0;
  };
  Snapshot snapshot() const noexcept;

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};  // last: above every bound
  std::atomic<std::uint64_t> sum_ns_{0};
};

// Traffic of a server's connections (RpcServerOptions::stats): bumped on io threads, read
// from any.
struct NetStats {
  Counter received_bytes;
  Counter sent_bytes;
  Counter accepted;
  std::atomic<std::int64_t> open{0};
};

class MetricsWriter {
 public:
  void counter(std::string_view name, std::string_view help, double value, const MetricLabels& labels = {});
  void counter(std::string_view name, std::string_view help, const Counter& value, const MetricLabels& labels = {}) {
    counter(name, help, static_cast<double>(value.value()), labels);
  }
  void gauge(std::string_view name, std::string_view help, double value, const MetricLabels& labels = {});
  void histogram(std::string_view name, std::string_view help, const Histogram& histogram,
                 const MetricLabels& labels = {});
  // The page, families in the order they were first added.
  std::string text() const;

 private:
  struct Family {
    std::string type;
    std::string help;
    std::string samples;
  };
  Family& family(std::string_view name, std::string_view help, const char* type);

  std::vector<std::string> order_;
  std::map<std::string, Family, std::less<>> families_;
};

// Adds what every process reports: fourinone_build_info{role,version,commit},
// process_start_time_seconds, process_cpu_seconds_total, process_resident_memory_bytes and
// process_open_fds (the names Prometheus's own client libraries use).
void write_process_metrics(MetricsWriter& out, std::string_view role, std::string_view version,
                           std::string_view commit);

// fourinone_net_received_bytes_total, _sent_bytes_total, _accepted_connections_total and
// fourinone_net_connections of one server's connections.
void write_net_metrics(MetricsWriter& out, const NetStats& stats);

// The content type of MetricsWriter::text().
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace fourinone::core
