#include "core/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace fourinone::core {
namespace {

namespace ssl = boost::asio::ssl;

std::string cannot_read(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return "cannot read " + path + ": " + std::strerror(errno);
  std::fclose(f);
  return "";
}

// Loads the CA, and the certificate and key when there is one, into `context`.
std::optional<TlsProblem> load(ssl::context& context, const TlsConfig& tls) {
  auto problem = [](std::string element, std::string why) {
    ::ERR_clear_error();  // what is left of OpenSSL's error queue would confuse the next call
    return TlsProblem{std::move(element), std::move(why)};
  };
  boost::system::error_code ec;
  // A key with a pass phrase would make OpenSSL prompt on the terminal: refuse it instead.
  context.set_password_callback([](std::size_t, ssl::context::password_purpose) { return std::string(); }, ec);
  if (std::string why = cannot_read(tls.ca); !why.empty()) return problem("TLSCA", why);
  context.load_verify_file(tls.ca, ec);
  if (ec) return problem("TLSCA", tls.ca + " holds no PEM certificate (" + ec.message() + ")");
  if (tls.cert.empty()) return std::nullopt;
  if (std::string why = cannot_read(tls.cert); !why.empty()) return problem("TLSCERT", why);
  context.use_certificate_chain_file(tls.cert, ec);
  if (ec) return problem("TLSCERT", tls.cert + " holds no PEM certificate (" + ec.message() + ")");
  if (std::string why = cannot_read(tls.key); !why.empty()) return problem("TLSKEY", why);
  context.use_private_key_file(tls.key, ssl::context::pem, ec);
  if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    return problem("TLSKEY", tls.key + " is not the key of the certificate in TLSCERT (" + tls.cert + ")");
  }
  if (ec) {
    return problem("TLSKEY", tls.key + " holds no PEM private key without a pass phrase (" + ec.message() + ")");
  }
  return std::nullopt;
}

// The certificate loaded in `context` must chain to a CA of TLSCA and be valid now: the other
// processes of the group will check exactly that, so a mistake shows at start, not at the
// first connection.
std::optional<TlsProblem> check_chain(ssl::context& context, const TlsConfig& tls) {
  SSL_CTX* ctx = context.native_handle();
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx, &chain);
  X509_STORE_CTX* check = X509_STORE_CTX_new();
  if (check == nullptr) return TlsProblem{"TLSCERT", "out of memory checking " + tls.cert};
  int ok = X509_STORE_CTX_init(check, SSL_CTX_get_cert_store(ctx), SSL_CTX_get0_certificate(ctx), chain);
  if (ok == 1) ok = X509_verify_cert(check);
  const int error = X509_STORE_CTX_get_error(check);
  X509_STORE_CTX_free(check);
  ::ERR_clear_error();
  if (ok == 1) return std::nullopt;
  return TlsProblem{"TLSCERT", tls.cert + " is not accepted by TLSCA (" + tls.ca +
                                   "): " + X509_verify_cert_error_string(error)};
}

// TLS 1.2 and 1.3 only; no session tickets, since our clients never resume a session (each
// connection lives long) and a ticket is bytes and work for nothing.
void restrict(ssl::context& context) {
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_num_tickets(context.native_handle(), 0);
}

}  // namespace

std::shared_ptr<TlsContext> TlsContext::for_server(const Config& config) {
  const TlsConfig& tls = config.park.tls;
  if (!tls.on()) return nullptr;
  auto context = std::make_shared<TlsContext>(Side::server, ssl::context::tls_server);
  if (tls.cert.empty()) {
    context->status_ = config_element_error(config, "PARK", "TLSCA",
                                            "a server needs a certificate as well: add TLSCERT and TLSKEY");
  } else if (auto problem = load(context->context_, tls)) {
    context->status_ = config_element_error(config, "PARK", problem->element, problem->why);
  }
  restrict(context->context_);
  if (tls.client_certs) {
    context->context_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return context;
}

std::shared_ptr<TlsContext> TlsContext::for_client(const TlsConfig& tls) {
  if (!tls.on()) return nullptr;
  auto context = std::make_shared<TlsContext>(Side::client, ssl::context::tls_client);
  if (auto problem = load(context->context_, tls)) {
    context->status_ = Status(Errc::config_error, problem->element + " in row PARK: " + problem->why);
  }
  restrict(context->context_);
  context->context_.set_verify_mode(ssl::verify_peer);
  return context;
}

void TlsContext::prepare_client(SSL* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  boost::system::error_code not_ip;
  boost::asio::ip::make_address(host, not_ip);
  if (!not_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    return;
  }
  X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  SSL_set_tlsext_host_name(ssl, host.c_str());
}

std::string TlsContext::describe_failure(SSL* ssl, const boost::system::error_code& ec) {
  std::string why = ec.message();
  const long verdict = SSL_get_verify_result(ssl);
  if (verdict == X509_V_ERR_HOSTNAME_MISMATCH || verdict == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    why += ": " + std::string(X509_verify_cert_error_string(verdict)) +
           " (the server's certificate must name the host as config.xml spells it, in its subjectAltName)";
  } else if (verdict != X509_V_OK) {
    why += ": " + std::string(X509_verify_cert_error_string(verdict)) +
           " (TLSCA must hold the CA that signed the other side's certificate)";
  } else if (ec.category() == boost::asio::error::get_ssl_category() &&
             ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED) {
    why += " (the server wants a client certificate: set TLSCERT and TLSKEY, signed by the CA of TLSCA)";
  }
  return why;
}

std::optional<TlsProblem> check_tls_files(const TlsConfig& tls) {
  ssl::context context(ssl::context::tls);
  if (auto problem = load(context, tls)) return problem;
  if (tls.cert.empty()) return std::nullopt;
  return check_chain(context, tls);
}

bool looks_like_tls(std::string_view bytes) {
  // A TLS record starts with its content type (21 alert, 22 handshake) and version 3.x.
  return bytes.size() >= 3 && (bytes[0] == 21 || bytes[0] == 22) && bytes[1] == 3 && bytes[2] >= 0 && bytes[2] <= 4;
}

}  // namespace fourinone::core
