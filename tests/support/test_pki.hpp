// A throwaway certificate authority for TLS tests, made with the openssl command line in the
// way core/CONFIG.md ("TLS") tells users to. Tests only.
#pragma once

#include <map>
#include <string>

#include "fourinone/config.hpp"

namespace fourinone::test {

struct TestPki {
  // Writes into `dir`: a CA; a server certificate for IP 127.0.0.1 and DNS localhost, good for
  // clients too (the park servers' links to each other show it); a client certificate of the
  // CA; and another CA that signed neither.
  explicit TestPki(const std::string& dir);

  // The PARK elements of a TLS server (TLSCA, TLSCERT, TLSKEY; TLSCLIENTCERTS true when asked).
  std::map<std::string, std::string> server_settings(bool client_certs = false) const;
  // The same for another server certificate of the CA, naming only `san` ("IP:10.0.0.1"), made
  // now as NAME.pem and NAME.key.
  std::map<std::string, std::string> other_server_settings(const std::string& name, const std::string& san) const;
  // A client's TLS: trusting `ca_file`, showing the client certificate when `with_cert`.
  TlsConfig client(bool with_cert, const std::string& ca_file) const;
  TlsConfig client(bool with_cert = false) const { return client(with_cert, ca); }

  std::string dir, ca, server_cert, server_key, client_cert, client_key, other_ca;
};

}  // namespace fourinone::test
