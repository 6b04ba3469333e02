// Challenge/response login primitives on OpenSSL libcrypto; the scheme is described in auth.hpp.
#include "core/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/base64.hpp"

namespace fourinone::core {
namespace {

constexpr std::string_view kClientKeyLabel = "Client Key";
constexpr std::string_view kServerKeyLabel = "Server Key";

// OpenSSL wants a real pointer even for zero bytes; an empty string_view may hold nullptr.
const unsigned char* bytes_of(std::string_view s) {
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

[[noreturn]] void crypto_failure(const char* what) {
  // Only an allocation failure inside OpenSSL gets here; there is no safe way to go on.
  std::fprintf(stderr, "fourinone: fatal: OpenSSL %s failed\n", what);
  std::abort();
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (key.size() > static_cast<std::size_t>(INT_MAX) || HMAC(EVP_sha256(), bytes_of(key), static_cast<int>(key.size()),
                                                             bytes_of(data), data.size(), out, &length) == nullptr) {
    crypto_failure("HMAC-SHA256");
  }
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string sha256(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes_of(data), data.size(), out, &length, EVP_sha256(), nullptr) != 1) crypto_failure("SHA-256");
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string salted_password(std::string_view password, std::string_view salt, std::uint32_t iterations) {
  std::string out(kAuthKeySize, '\0');
  if (password.size() > static_cast<std::size_t>(INT_MAX) || salt.size() > static_cast<std::size_t>(INT_MAX) ||
      PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(bytes_of(password)), static_cast<int>(password.size()),
                        bytes_of(salt), static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                        static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data())) != 1) {
    crypto_failure("PBKDF2-HMAC-SHA256");
  }
  return out;
}

std::string xor_bytes(std::string_view a, std::string_view b) {
  std::string out(a);
  for (std::size_t i = 0; i < out.size() && i < b.size(); ++i) out[i] = static_cast<char>(out[i] ^ b[i]);
  return out;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  // The lengths are public (always kAuthKeySize for honest peers); only the bytes are secret.
  return a.size() == b.size() && CRYPTO_memcmp(bytes_of(a), bytes_of(b), a.size()) == 0;
}

bool iterations_ok(std::uint32_t iterations) { return iterations >= 1 && iterations <= kMaxAuthIterations; }

bool valid_user_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (;;) {
    std::size_t colon = text.find(':', start);
    fields.push_back(text.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start));
    if (colon == std::string_view::npos) return fields;
    start = colon + 1;
  }
}

}  // namespace

UserEntry make_user_entry(std::string name, std::string_view password, std::uint32_t iterations) {
  iterations = std::clamp<std::uint32_t>(iterations, 1, kMaxAuthIterations);
  UserEntry entry;
  entry.name = std::move(name);
  entry.salt = random_bytes(kAuthSaltSize);
  entry.iterations = iterations;
  std::string salted = salted_password(password, entry.salt, iterations);
  entry.stored_key = sha256(hmac_sha256(salted, kClientKeyLabel));
  entry.server_key = hmac_sha256(salted, kServerKeyLabel);
  OPENSSL_cleanse(salted.data(), salted.size());
  return entry;
}

std::string format_user_entry(const UserEntry& entry) {
  return entry.name + ":" + std::to_string(entry.iterations) + ":" + encode_base64(entry.salt) + ":" +
         encode_base64(entry.stored_key) + ":" + encode_base64(entry.server_key);
}

Result<UserEntry> parse_user_entry(std::string_view text) {
  auto fields = split_fields(text);
  UserEntry entry;
  entry.name = std::string(fields[0]);
  const std::string& name = entry.name;
  if (!valid_user_name(name)) {
    return Status(Errc::bad_request,
                  "user entry '" + std::string(text) + "': the name must be letters, digits, '_', '.' or '-'");
  }
  auto fail = [&name](const std::string& why) { return Status(Errc::bad_request, "user " + name + ": " + why); };
  if (fields.size() != 5) {
    return fail("expected NAME:ITERATIONS:SALT:STOREDKEY:SERVERKEY (5 fields), got " + std::to_string(fields.size()) +
                " (make one with `fourinone passwd " + name + "`)");
  }
  std::string_view count = fields[1];
  auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), entry.iterations);
  if (count.empty() || ec != std::errc() || end != count.data() + count.size() || !iterations_ok(entry.iterations)) {
    return fail("iterations must be a number from 1 to " + std::to_string(kMaxAuthIterations) + ", got '" +
                std::string(count) + "'");
  }
  auto salt = decode_base64(fields[2]);
  if (!salt || salt->empty()) return fail("the salt is not base64 of at least one byte");
  auto stored_key = decode_base64(fields[3]);
  if (!stored_key || stored_key->size() != kAuthKeySize) {
    return fail("the stored key is not base64 of " + std::to_string(kAuthKeySize) + " bytes");
  }
  auto server_key = decode_base64(fields[4]);
  if (!server_key || server_key->size() != kAuthKeySize) {
    return fail("the server key is not base64 of " + std::to_string(kAuthKeySize) + " bytes");
  }
  entry.salt = std::move(*salt);
  entry.stored_key = std::move(*stored_key);
  entry.server_key = std::move(*server_key);
  return entry;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (n > static_cast<std::size_t>(INT_MAX) ||
      (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)) {
    crypto_failure("RAND_bytes");
  }
  return out;
}

std::string auth_message(std::string_view user, std::string_view client_nonce, std::string_view server_nonce) {
  std::string out;
  out.reserve(user.size() + client_nonce.size() + server_nonce.size() + 2);
  out.append(user).append(",").append(client_nonce).append(",").append(server_nonce);
  return out;
}

std::string client_proof(std::string_view password, std::string_view salt, std::uint32_t iterations,
                         std::string_view auth_message) {
  if (!iterations_ok(iterations)) return "";
  std::string salted = salted_password(password, salt, iterations);
  std::string client_key = hmac_sha256(salted, kClientKeyLabel);
  std::string stored_key = sha256(client_key);
  std::string proof = xor_bytes(client_key, hmac_sha256(stored_key, auth_message));
  OPENSSL_cleanse(salted.data(), salted.size());
  OPENSSL_cleanse(client_key.data(), client_key.size());
  return proof;
}

bool verify_client_proof(const UserEntry& entry, std::string_view auth_message, std::string_view proof) {
  if (proof.size() != kAuthKeySize || entry.stored_key.size() != kAuthKeySize) return false;
  std::string client_key = xor_bytes(proof, hmac_sha256(entry.stored_key, auth_message));
  bool ok = equal_constant_time(sha256(client_key), entry.stored_key);
  OPENSSL_cleanse(client_key.data(), client_key.size());
  return ok;
}

std::string server_signature(const UserEntry& entry, std::string_view auth_message) {
  return hmac_sha256(entry.server_key, auth_message);
}

bool verify_server_signature(std::string_view password, std::string_view salt, std::uint32_t iterations,
                             std::string_view auth_message, std::string_view signature) {
  if (!iterations_ok(iterations)) return false;
  std::string salted = salted_password(password, salt, iterations);
  std::string server_key = hmac_sha256(salted, kServerKeyLabel);
  bool ok = equal_constant_time(hmac_sha256(server_key, auth_message), signature);
  OPENSSL_cleanse(salted.data(), salted.size());
  OPENSSL_cleanse(server_key.data(), server_key.size());
  return ok;
}

}  // namespace fourinone::core
