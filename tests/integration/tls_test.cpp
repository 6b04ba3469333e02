// TLS on every port (PARK/TLSCA, TLSCERT, TLSKEY, TLSCLIENTCERTS): real park servers and a
// worker with certificates of a CA made for the test (tests/support/test_pki.hpp). A client of
// the CA gets in; a plain client, a client trusting another CA and, with client certificates
// required, a client without one are refused with a reason that says what to change.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/rpc_client.hpp"
#include "fourinone/contractor.hpp"
#include "fourinone/park.hpp"
#include "tests/support/pass_through.hpp"
#include "tests/support/park_fixture.hpp"
#include "tests/support/park_group.hpp"
#include "tests/support/test_pki.hpp"

using namespace std::chrono_literals;
using fourinone::test::PassThrough;
using fourinone::Errc;
using fourinone::Park;
using fourinone::ParkOptions;
using fourinone::Status;
using fourinone::TlsConfig;
using fourinone::test::ParkGroup;
using fourinone::test::RunningPark;
using fourinone::test::TempDir;
using fourinone::test::TestPki;

namespace {

ParkOptions with_tls(ParkOptions options, const TlsConfig& tls) {
  options.tls = tls;
  return options;
}

// Connects with `options`, writes a node and reads it back; the first error on the way.
Status write_and_read(const ParkOptions& options, const std::string& value) {
  auto park = Park::connect(options);
  if (!park.ok()) return park.status();
  if (auto w = park.value()->create("tls", value, value); !w.ok()) return w.status();
  auto r = park.value()->get("tls", value);
  if (!r.ok()) return r.status();
  CHECK(r->value == value);
  return Status();
}

// The reason a connection with `options` is refused (OK when it is not).
Status refusal(const ParkOptions& options) {
  auto park = Park::connect(options);
  return park.ok() ? Status() : park.status();
}

bool mentions(const Status& s, const std::string& text) { return s.message().find(text) != std::string::npos; }

}  // namespace

TEST_CASE("a TLS park server serves TLS clients and refuses plain ones and those trusting another CA") {
  TempDir certs;
  TestPki pki(certs.path());
  RunningPark park(pki.server_settings());

  Status ok = write_and_read(with_tls(park.options(), pki.client()), "a");
  CHECK_MESSAGE(ok.ok(), ok.to_string());
  // The CLI reads TLS from the same config.xml as the server.
  auto got = park.ctl({"get", "tls", "a"});
  CHECK_MESSAGE(got.code == 0, got.err);
  CHECK(got.out == "a\n");

  Status plain = refusal(park.options());
  CHECK(plain.code() == Errc::unauthenticated);
  CHECK_MESSAGE(mentions(plain, "accepts only TLS connections: set PARK/TLSCA"), plain.to_string());
  CHECK(park.server.process()->err().find("connected without TLS; refused") != std::string::npos);

  Status stranger = refusal(with_tls(park.options(), pki.client(false, pki.other_ca)));
  CHECK(stranger.code() == Errc::unavailable);
  CHECK_MESSAGE(mentions(stranger, "certificate verify failed"), stranger.to_string());
  CHECK_MESSAGE(mentions(stranger, "TLSCA must hold the CA that signed"), stranger.to_string());

  // The certificate names DNS localhost too.
  auto by_name = with_tls(park.options(), pki.client());
  by_name.servers = {fourinone::ServerAddress{"localhost", park.config.port}};
  Status named = write_and_read(by_name, "b");
  CHECK_MESSAGE(named.ok(), named.to_string());
}

TEST_CASE("a client refuses a server of the CA whose certificate does not name the host it dialled") {
  TempDir certs;
  TestPki pki(certs.path());
  RunningPark park(pki.other_server_settings("elsewhere", "IP:10.9.8.7,DNS:elsewhere.example"));
  Status by_ip = refusal(with_tls(park.options(), pki.client()));
  CHECK_MESSAGE(mentions(by_ip, "IP address mismatch"), by_ip.to_string());
  CHECK_MESSAGE(mentions(by_ip, "must name the host as config.xml spells it"), by_ip.to_string());
  auto by_name = with_tls(park.options(), pki.client());
  by_name.servers = {fourinone::ServerAddress{"localhost", park.config.port}};
  Status named = refusal(by_name);
  CHECK_MESSAGE(mentions(named, "hostname mismatch"), named.to_string());
}

TEST_CASE("a TLS client is refused by a plain server with a reason, not a hang") {
  TempDir certs;
  TestPki pki(certs.path());
  RunningPark park;
  const auto started = std::chrono::steady_clock::now();
  Status s = refusal(with_tls(park.options(), pki.client()));
  CHECK(s.code() == Errc::unavailable);
  CHECK_MESSAGE(mentions(s, "TLS handshake with 127.0.0.1:"), s.to_string());
  CHECK_MESSAGE(mentions(s, "TLS on? PARK/TLSCA must be set on both sides"), s.to_string());
  CHECK(std::chrono::steady_clock::now() - started < 1500ms);  // not the connect timeout (2 s)
}

TEST_CASE("with TLSCLIENTCERTS only a client showing a certificate of the CA gets in") {
  TempDir certs;
  TestPki pki(certs.path());
  RunningPark park(pki.server_settings(true));

  Status without = refusal(with_tls(park.options(), pki.client(false)));
  CHECK_MESSAGE(mentions(without, "certificate required"), without.to_string());
  CHECK_MESSAGE(mentions(without, "set TLSCERT and TLSKEY"), without.to_string());
  CHECK(park.server.process()->err().find("peer did not return a certificate") != std::string::npos);

  Status with = write_and_read(with_tls(park.options(), pki.client(true)), "c");
  CHECK_MESSAGE(with.ok(), with.to_string());
}

TEST_CASE("a group of three with TLS and client certificates elects a leader and replicates") {
  TempDir certs;
  TestPki pki(certs.path());
  // Client certificates required: the servers' links to each other must show theirs.
  ParkGroup group(3, pki.server_settings(true));
  REQUIRE(group.start_all());
  auto leader = group.wait_for_leader();  // ctl status over TLS, with the group's config
  REQUIRE(leader.has_value());
  auto park = Park::connect(with_tls(group.options(), pki.client(true)));
  REQUIRE_MESSAGE(park.ok(), park.status().to_string());
  auto written = park.value()->create("cfg", "k", "v");
  REQUIRE_MESSAGE(written.ok(), written.status().to_string());
  for (std::size_t i = 0; i < group.size(); ++i) {
    CHECK_MESSAGE(fourinone::test::wait_until(
                      [&] {
                        return fourinone::test::revision_in_status(group.status_of(i)) == written->mod_revision;
                      },
                      5s),
                  "member " << i);
    // A follower answers a stale read from its own store: the entry came over a TLS peer link.
    auto alone = Park::connect([&] {
      auto o = with_tls(group.options_for(i), pki.client(true));
      o.stale_reads = true;
      return o;
    }());
    REQUIRE_MESSAGE(alone.ok(), alone.status().to_string());
    auto got = alone.value()->get("cfg", "k");
    CHECK_MESSAGE(got.ok(), got.status().to_string());
  }
  CHECK(group.log_of(*leader).find("TLS handshake") == std::string::npos);
}

TEST_CASE("a worker's port takes TLS from the same config: contractors get in, plain clients do not") {
  TempDir certs;
  TestPki pki(certs.path());
  RunningPark park(pki.server_settings());
  auto config = fourinone::load_config(park.config.path);
  REQUIRE_MESSAGE(config.ok(), config.status().to_string());
  fourinone::test::Process worker({FOURINONE_TEST_WORKER, "--config", park.config.path, "--type", "squares"},
                                  park.dir.file("worker"));
  PassThrough contractor(config.value());
  std::vector<fourinone::WorkerLocal> workers;
  REQUIRE_MESSAGE(fourinone::test::wait_until(
                      [&] {
                        auto listed = contractor.get_waiting_workers("squares");
                        if (listed.ok()) workers = listed.value();
                        return !workers.empty();
                      },
                      10s),
                  worker.err());
  auto square = workers.front().do_task(fourinone::WareHouse{{"op", "square"}, {"n", 7}}).wait();
  CHECK(square.get_int("square").value() == 49);

  // By hand, without TLS, to the worker's own port.
  boost::asio::io_context io;
  Status plain(Errc::timeout, "no answer");
  fourinone::core::RpcClient::connect(io, workers.front().info().address, {},
                                      [&](auto r) { plain = r.ok() ? Status() : r.status(); });
  io.run_for(5s);
  CHECK(plain.code() == Errc::unauthenticated);
  CHECK_MESSAGE(mentions(plain, "accepts only TLS connections"), plain.to_string());
  worker.signal(SIGTERM);
  worker.wait(5s);
}
