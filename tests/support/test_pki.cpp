#include "tests/support/test_pki.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "tests/support/process.hpp"

namespace fourinone::test {
namespace {

// openssl ARGS..., which must succeed.
void openssl(std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/env", "openssl"});
  CliResult r = run_program(args);
  REQUIRE_MESSAGE(r.code == 0, "openssl " << args.at(2) << " failed: " << r.err);
}

// A new P-256 key in `key` and its certificate in `cert`, signed by `ca`/`ca_key` (self-signed,
// as a CA, when they are empty), with `extensions` added.
void make_certificate(const std::string& cert, const std::string& key, const std::string& subject,
                      const std::string& ca, const std::string& ca_key, const std::vector<std::string>& extensions) {
  std::vector<std::string> args{"req",     "-x509", "-newkey", "ec",    "-pkeyopt", "ec_paramgen_curve:P-256",
                                "-nodes",  "-days", "30",      "-subj", subject,    "-keyout",
                                key,       "-out",  cert};
  if (!ca.empty()) args.insert(args.end(), {"-CA", ca, "-CAkey", ca_key});
  for (const auto& e : extensions) args.insert(args.end(), {"-addext", e});
  openssl(args);
}

}  // namespace

const char* const kLeaf = "basicConstraints=critical,CA:FALSE";

TestPki::TestPki(const std::string& dir)
    : dir(dir),
      ca(dir + "/ca.pem"),
      server_cert(dir + "/server.pem"),
      server_key(dir + "/server.key"),
      client_cert(dir + "/client.pem"),
      client_key(dir + "/client.key"),
      other_ca(dir + "/other_ca.pem") {
  make_certificate(ca, dir + "/ca.key", "/CN=fourinone test CA", "", "", {});
  make_certificate(server_cert, server_key, "/CN=fourinone test server", ca, dir + "/ca.key",
                   {"subjectAltName=IP:127.0.0.1,DNS:localhost", "extendedKeyUsage=serverAuth,clientAuth", kLeaf});
  make_certificate(client_cert, client_key, "/CN=fourinone test client", ca, dir + "/ca.key",
                   {"extendedKeyUsage=clientAuth", kLeaf});
  make_certificate(other_ca, dir + "/other_ca.key", "/CN=another CA", "", "", {});
}

std::map<std::string, std::string> TestPki::server_settings(bool client_certs) const {
  std::map<std::string, std::string> s{{"TLSCA", ca}, {"TLSCERT", server_cert}, {"TLSKEY", server_key}};
  if (client_certs) s["TLSCLIENTCERTS"] = "true";
  return s;
}

std::map<std::string, std::string> TestPki::other_server_settings(const std::string& name,
                                                                  const std::string& san) const {
  const std::string cert = dir + "/" + name + ".pem";
  const std::string key = dir + "/" + name + ".key";
  make_certificate(cert, key, "/CN=" + name, ca, dir + "/ca.key",
                   {"subjectAltName=" + san, "extendedKeyUsage=serverAuth,clientAuth", kLeaf});
  return {{"TLSCA", ca}, {"TLSCERT", cert}, {"TLSKEY", key}};
}

TlsConfig TestPki::client(bool with_cert, const std::string& ca_file) const {
  TlsConfig tls;
  tls.ca = ca_file;
  if (with_cert) {
    tls.cert = client_cert;
    tls.key = client_key;
  }
  return tls;
}

}  // namespace fourinone::test
