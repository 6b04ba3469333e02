// TLS for every framed connection (issue 17): the OpenSSL context a server or a client uses,
// made from PARK/TLSCA, TLSCERT, TLSKEY and TLSCLIENTCERTS (core/CONFIG.md "TLS").
//
// DESIGN: TLS lives in FramedSocket alone (core/framed_socket.hpp): it wraps the TCP socket in
// an SSL stream and runs the TLS handshake right after accept or connect, before the hello.
// So every port (park clients and peer links, workers, cache and fttp servers) gets it from
// the one setting, and a plain connection pays one branch per read and write. A context is
// made once per server or client object and shared by its connections (OpenSSL's SSL_CTX is
// safe to share between threads once set up). load_config() checks the files already, with
// file, line and element; a context made later from them can still fail (a file removed
// meanwhile) and then says why through status(), which listen() and connect() return.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/asio.hpp"
#include <boost/asio/ssl.hpp>

#include "fourinone/config.hpp"
#include "fourinone/error.hpp"

namespace fourinone::core {

class TlsContext {
 public:
  enum class Side { server, client };

  // A server's context: its certificate and key, and with TLSCLIENTCERTS a demand for a client
  // certificate of the CA. nullptr when TLS is off. Errors (status()) name config.xml's file,
  // line and element, such as a server without TLSCERT.
  static std::shared_ptr<TlsContext> for_server(const Config& config);
  // A client's context: it verifies the server's certificate against TLSCA (and its name, see
  // prepare_client) and shows TLSCERT when a server asks for one. nullptr when TLS is off.
  static std::shared_ptr<TlsContext> for_client(const TlsConfig& tls);

  Side side() const noexcept { return side_; }
  const Status& status() const noexcept { return status_; }  // not OK: unusable, and why
  boost::asio::ssl::context& native() noexcept { return context_; }

  // Makes a client's connection check that the server's certificate names `host`, the host
  // as config.xml spells it: a DNS name (also sent as SNI) or an IP address (an IP SAN).
  static void prepare_client(SSL* ssl, const std::string& host);
  // Why a handshake or a read failed, in words: OpenSSL's reason, plus the certificate check's
  // verdict when that was the cause ("certificate has expired", "IP address mismatch", ...) and
  // what to change.
  static std::string describe_failure(SSL* ssl, const boost::system::error_code& ec);

  TlsContext(Side side, boost::asio::ssl::context::method method) : side_(side), context_(method) {}

 private:
  Side side_;
  Status status_;
  boost::asio::ssl::context context_;
};

// What is wrong with the files of `tls`: the element at fault (TLSCA, TLSCERT, TLSKEY) and why;
// nullopt when they load, the key belongs to the certificate and the certificate chains to a
// CA of TLSCA. For load_config().
struct TlsProblem {
  std::string element;
  std::string why;
};
std::optional<TlsProblem> check_tls_files(const TlsConfig& tls);

// True when `bytes` begin like a TLS record (a handshake or an alert): the peer speaks TLS to a
// socket that does not. Needs at least 3 bytes.
bool looks_like_tls(std::string_view bytes);

}  // namespace fourinone::core
