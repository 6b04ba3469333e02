// core/metrics: the Prometheus text format, and core/http_server's text helpers.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "core/http_server.hpp"
#include "core/metrics.hpp"

using fourinone::core::Histogram;
using fourinone::core::MetricsWriter;

TEST_CASE("samples of one family stay together under one HELP and TYPE, in the order families came") {
  MetricsWriter out;
  out.counter("a_total", "First.", 1, {{"kind", "x"}});
  out.gauge("b", "Second.", 2.5);
  out.counter("a_total", "ignored", 3, {{"kind", "y"}});
  CHECK(out.text() ==
        "# HELP a_total First.\n# TYPE a_total counter\na_total{kind=\"x\"} 1\na_total{kind=\"y\"} 3\n"
        "# HELP b Second.\n# TYPE b gauge\nb 2.5\n");
}

TEST_CASE("label values and help text are escaped as the format says") {
  MetricsWriter out;
  out.gauge("g", "a \\ b\nc", 1, {{"v", "q\"uo\\te\nnl"}});
  CHECK(out.text() == "# HELP g a \\\\ b\\nc\n# TYPE g gauge\ng{v=\"q\\\"uo\\\\te\\nnl\"} 1\n");
}

TEST_CASE("a histogram has cumulative buckets, +Inf, sum and count") {
  Histogram h;
  h.observe(std::chrono::microseconds(50));   // <= 0.0001
  h.observe(std::chrono::milliseconds(3));    // <= 0.005
  h.observe(std::chrono::seconds(20));        // above every bound
  auto snap = h.snapshot();
  CHECK(snap.count == 3);
  CHECK(snap.cumulative.front() == 1);
  CHECK(snap.cumulative.back() == 2);
  CHECK(snap.sum_seconds == doctest::Approx(20.00305));
  MetricsWriter out;
  out.histogram("d_seconds", "Durations.", h, {{"kind", "w"}});
  const std::string text = out.text();
  CHECK(text.find("d_seconds_bucket{kind=\"w\",le=\"0.0001\"} 1\n") != std::string::npos);
  CHECK(text.find("d_seconds_bucket{kind=\"w\",le=\"0.005\"} 2\n") != std::string::npos);
  CHECK(text.find("d_seconds_bucket{kind=\"w\",le=\"10\"} 2\n") != std::string::npos);
  CHECK(text.find("d_seconds_bucket{kind=\"w\",le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(text.find("d_seconds_count{kind=\"w\"} 3\n") != std::string::npos);
  CHECK(text.find("# TYPE d_seconds histogram\n") != std::string::npos);
}

TEST_CASE("process metrics name this build and role") {
  MetricsWriter out;
  fourinone::core::write_process_metrics(out, "park", "1.2.3", "abc123");
  const std::string text = out.text();
  CHECK(text.find("fourinone_build_info{role=\"park\",version=\"1.2.3\",commit=\"abc123\"} 1\n") != std::string::npos);
  CHECK(text.find("process_resident_memory_bytes ") != std::string::npos);
  CHECK(text.find("process_start_time_seconds 1") != std::string::npos);  // after 2001
}

TEST_CASE("html_escape leaves no markup; url helpers round-trip and survive malformed input") {
  using namespace fourinone::core;
  CHECK(html_escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  CHECK(url_encode("a b/c?d=e&f") == "a%20b%2Fc%3Fd%3De%26f");
  CHECK(url_decode(url_encode("ü <x> & 100%")) == "ü <x> & 100%");
  CHECK(url_decode("a+b%2") == "a b%2");
  CHECK(url_decode("%zz%4") == "%zz%4");
  auto q = parse_query("name=a%26b&empty=&flag&x=1&x=2");
  CHECK(q["name"] == "a&b");
  CHECK(q["empty"].empty());
  CHECK(q.count("flag") == 1);
  CHECK(q["x"] == "2");
  CHECK(parse_query("").empty());
}
