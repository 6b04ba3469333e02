// PARK/TLSCA, TLSCERT, TLSKEY and TLSCLIENTCERTS in config.xml: read with their paths resolved,
// and every setting that could not work refused at load with file, line and element. The
// certificates come from a throwaway CA (tests/support/test_pki.hpp); nothing connects.
#include <doctest/doctest.h>

#include <string>

#include "core/tls.hpp"
#include "fourinone/config.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_pki.hpp"

using namespace fourinone;

namespace {

// A PARK row whose `tls` lines start on line 4.
std::string tls_doc(const std::string& tls) {
  return "<PROPSTABLE>\n<PROPSROW DESC=\"PARK\">\n<SERVERS>localhost:1888</SERVERS>\n" + tls +
         "\n</PROPSROW>\n</PROPSTABLE>\n";
}

std::string element(const std::string& name, const std::string& text) {
  return "<" + name + ">" + text + "</" + name + ">";
}

// The message parse_config refuses `tls` with ("" when it is accepted).
std::string refusal(const std::string& tls, const std::string& dir) {
  auto r = parse_config(tls_doc(tls), "c.xml", dir);
  if (r.ok()) return "";
  CHECK(r.status().code() == Errc::config_error);
  return r.status().message();
}

bool starts_with(const std::string& s, const std::string& head) { return s.rfind(head, 0) == 0; }

}  // namespace

TEST_CASE("the TLS elements are read, with paths relative to the config file's folder") {
  test::TempDir dir;
  test::TestPki pki(dir.path());
  auto r = parse_config(tls_doc(element("TLSCA", "ca.pem") + element("TLSCERT", "server.pem") +
                                element("TLSKEY", "server.key") + element("TLSCLIENTCERTS", "TRUE")),
                        "c.xml", dir.path());
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  CHECK(r->park.tls.on());
  CHECK(r->park.tls.ca == pki.ca);
  CHECK(r->park.tls.cert == pki.server_cert);
  CHECK(r->park.tls.key == pki.server_key);
  CHECK(r->park.tls.client_certs);

  // A client needs only the CA; without TLSCA TLS is off.
  auto client = parse_config(tls_doc(element("TLSCA", pki.ca)), "c.xml", dir.path());
  REQUIRE_MESSAGE(client.ok(), client.status().to_string());
  CHECK(client->park.tls.cert.empty());
  CHECK_FALSE(parse_config(tls_doc(""), "c.xml").value().park.tls.on());
}

TEST_CASE("a TLS setting that cannot work is refused at load, naming file, line and element") {
  test::TempDir dir;
  test::TestPki pki(dir.path());
  const std::string ca = element("TLSCA", pki.ca);
  const std::string cert = element("TLSCERT", pki.server_cert);
  const std::string key = element("TLSKEY", pki.server_key);
  struct Case {
    std::string tls;
    std::string head;  // FILE:LINE: ELEMENT in row PARK:
    std::string why;
  };
  const Case cases[] = {
      {cert + key, "c.xml:4: TLSCERT in row PARK: ", "needs TLSCA"},
      {element("TLSCLIENTCERTS", "true"), "c.xml:4: TLSCLIENTCERTS in row PARK: ", "needs TLSCA"},
      {element("TLSCLIENTCERTS", "yes") + ca, "c.xml:4: TLSCLIENTCERTS in row PARK: ", "must be true or false"},
      {element("TLSCA", ""), "c.xml:4: TLSCA in row PARK: ", "must name a PEM file"},
      {ca + "\n" + cert, "c.xml:5: TLSCERT in row PARK: ", "needs TLSKEY"},
      {ca + "\n" + key, "c.xml:5: TLSKEY in row PARK: ", "needs TLSCERT"},
      {element("TLSCA", "absent.pem"), "c.xml:4: TLSCA in row PARK: ",
       "cannot read " + dir.file("absent.pem") + ": No such file"},
      {element("TLSCA", pki.server_key), "c.xml:4: TLSCA in row PARK: ", "holds no PEM certificate"},
      {ca + "\n" + element("TLSCERT", pki.server_key) + "\n" + key, "c.xml:5: TLSCERT in row PARK: ",
       "holds no PEM certificate"},
      {ca + "\n" + cert + "\n" + element("TLSKEY", pki.server_cert), "c.xml:6: TLSKEY in row PARK: ",
       "holds no PEM private key"},
      // A key of another certificate, and a certificate of another CA.
      {ca + "\n" + cert + "\n" + element("TLSKEY", pki.client_key), "c.xml:6: TLSKEY in row PARK: ",
       "is not the key of the certificate in TLSCERT"},
      {element("TLSCA", pki.other_ca) + "\n" + cert + "\n" + key, "c.xml:5: TLSCERT in row PARK: ",
       "is not accepted by TLSCA (" + pki.other_ca + "): unable to get local issuer certificate"},
  };
  for (const auto& c : cases) {
    std::string message = refusal(c.tls, dir.path());
    INFO(c.tls);
    INFO(message);
    CHECK(starts_with(message, c.head));
    CHECK(message.find(c.why) != std::string::npos);
  }
  CHECK(refusal(ca + cert + key + element("TLSCLIENTCERTS", "false"), dir.path()).empty());
}

TEST_CASE("a server's TLS context needs a certificate; a client's only the CA") {
  test::TempDir dir;
  test::TestPki pki(dir.path());
  auto client_only = parse_config(tls_doc(element("TLSCA", pki.ca)), "c.xml", dir.path());
  REQUIRE(client_only.ok());
  auto server = core::TlsContext::for_server(client_only.value());
  REQUIRE(server != nullptr);
  CHECK(server->status().code() == Errc::config_error);
  CHECK(starts_with(server->status().message(), "(config text):4: TLSCA in row PARK: a server needs a certificate"));
  auto client = core::TlsContext::for_client(client_only->park.tls);
  REQUIRE(client != nullptr);
  CHECK_MESSAGE(client->status().ok(), client->status().to_string());
  CHECK(core::TlsContext::for_client(TlsConfig{}) == nullptr);  // off: plain TCP

  auto full = parse_config(tls_doc(element("TLSCA", pki.ca) + element("TLSCERT", pki.server_cert) +
                                   element("TLSKEY", pki.server_key)),
                           "c.xml", dir.path());
  REQUIRE(full.ok());
  CHECK(core::TlsContext::for_server(full.value())->status().ok());
}

TEST_CASE("looks_like_tls knows a TLS record from a Fourinone frame") {
  CHECK(core::looks_like_tls(std::string("\x16\x03\x01\x02\x00", 5)));  // a ClientHello
  CHECK(core::looks_like_tls(std::string("\x15\x03\x03\x00\x02", 5)));  // an alert
  CHECK_FALSE(core::looks_like_tls("F4N1"));                             // our magic
  CHECK_FALSE(core::looks_like_tls(std::string("\x16\x03", 2)));         // too short to tell
}
