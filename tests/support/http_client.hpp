// A blocking HTTP/1.1 client for tests of the status pages and /metrics (Boost.Beast).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace fourinone::test {

struct HttpResult {
  int status = 0;  // 0: no answer (connection refused, timeout)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;
};

// One request to 127.0.0.1:port on a fresh connection. `headers`: extra request headers.
HttpResult http_request(std::uint16_t port, const std::string& method, const std::string& target,
                        const std::map<std::string, std::string>& headers = {}, const std::string& body = "");
inline HttpResult http_get(std::uint16_t port, const std::string& target,
                           const std::map<std::string, std::string>& headers = {}) {
  return http_request(port, "GET", target, headers);
}
// The same over TLS, checking the server's certificate against the CA in `ca_file` and the
// name `host` ("localhost" or an IP).
HttpResult https_get(std::uint16_t port, const std::string& target, const std::string& ca_file,
                     const std::string& host = "localhost");
// Raw bytes in, raw bytes out (until the server closes or 5 s pass): for malformed requests.
std::string http_raw(std::uint16_t port, const std::string& bytes);

}  // namespace fourinone::test
