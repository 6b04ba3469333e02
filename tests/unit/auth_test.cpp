// Challenge/response login (core/auth) and the base64 it stores entries in (core/base64).
#include "core/auth.hpp"

#include <doctest/doctest.h>

#include <string>

#include "core/base64.hpp"

using namespace fourinone::core;
using fourinone::Errc;
using fourinone::UserEntry;

namespace {

// Few rounds keep the tests fast; the scheme does not depend on the count.
constexpr std::uint32_t kTestIterations = 64;

// One login as rpc_client and rpc_server do it: fresh nonces, the client's proof checked by the
// server. Returns whether the server accepts.
bool login(const UserEntry& entry, std::string_view password) {
  std::string message = auth_message(entry.name, random_bytes(18), random_bytes(18));
  return verify_client_proof(entry, message, client_proof(password, entry.salt, entry.iterations, message));
}

}  // namespace

TEST_CASE("base64 matches the RFC 4648 test vectors and round-trips every length") {
  CHECK(encode_base64("") == "");
  CHECK(encode_base64("f") == "Zg==");
  CHECK(encode_base64("fo") == "Zm8=");
  CHECK(encode_base64("foo") == "Zm9v");
  CHECK(encode_base64("foob") == "Zm9vYg==");
  CHECK(encode_base64("fooba") == "Zm9vYmE=");
  CHECK(encode_base64("foobar") == "Zm9vYmFy");
  CHECK(decode_base64("Zm9vYmFy").value() == "foobar");
  CHECK(decode_base64("").value().empty());
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    bytes += static_cast<char>(i * 37 + 11);
    CHECK(decode_base64(encode_base64(bytes)).value() == bytes);
  }
}

TEST_CASE("base64 decoding rejects bad characters, lengths and padding") {
  CHECK_FALSE(decode_base64("Zg="));   // not a multiple of 4
  CHECK_FALSE(decode_base64("Zg"));    // padding missing
  CHECK_FALSE(decode_base64("Z==="));  // too much padding
  CHECK_FALSE(decode_base64("===="));
  CHECK_FALSE(decode_base64("Zg==Zg=="));   // padding in the middle
  CHECK_FALSE(decode_base64("Zm9v YmFy"));  // whitespace
  CHECK_FALSE(decode_base64("Zm9-"));       // URL-safe alphabet is not ours
  CHECK_FALSE(decode_base64("Zh=="));       // unused bits set: not the canonical encoding
  CHECK_FALSE(decode_base64("Zm9="));
}

// OpenSSL's EVP_DecodeBlock, under decode_base64 since issue 18, skips whitespace around the
// text and counts '=' as zero bytes; decode_base64 must still refuse the one and drop the other.
TEST_CASE("base64 decoding refuses whitespace anywhere and drops exactly the padded bytes") {
  CHECK_FALSE(decode_base64("    Zm9v"));  // leading whitespace, length still a multiple of 4
  CHECK_FALSE(decode_base64("Zm9v    "));  // trailing
  CHECK_FALSE(decode_base64("Zm9v\n\n\n\n"));
  CHECK_FALSE(decode_base64("\tZm9vYm\r\n="));
  CHECK_FALSE(decode_base64("Zm=v"));       // '=' inside the last group
  CHECK_FALSE(decode_base64(std::string_view("Zm9\0", 4)));
  CHECK(decode_base64("Zg==").value() == "f");
  CHECK(decode_base64("Zm8=").value() == "fo");
  CHECK(decode_base64("AA==").value() == std::string(1, '\0'));  // a real zero byte is kept
  CHECK(decode_base64("AAA=").value() == std::string(2, '\0'));
}

TEST_CASE("base64 round-trips data longer than one OpenSSL call takes") {
  std::string bytes((3u << 20) + 5, '\0');  // past the 3 MiB pieces base64.cpp hands to OpenSSL
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 + (i >> 9));
  std::string text = encode_base64(bytes);
  CHECK(text.size() == (bytes.size() + 2) / 3 * 4);
  CHECK(text.ends_with("="));
  CHECK(decode_base64(text).value() == bytes);
}

TEST_CASE("the right password logs in and a wrong one does not") {
  UserEntry entry = make_user_entry("alice", "correct horse", kTestIterations);
  CHECK(entry.name == "alice");
  CHECK(entry.iterations == kTestIterations);
  CHECK(entry.salt.size() == kAuthSaltSize);
  CHECK(entry.stored_key.size() == kAuthKeySize);
  CHECK(entry.server_key.size() == kAuthKeySize);
  CHECK(login(entry, "correct horse"));
  CHECK_FALSE(login(entry, "correct horse "));
  CHECK_FALSE(login(entry, ""));
}

TEST_CASE("an empty password works like any other") {
  UserEntry entry = make_user_entry("nobody", "", kTestIterations);
  CHECK(login(entry, ""));
  CHECK_FALSE(login(entry, "x"));
}

TEST_CASE("a proof made for one nonce is refused for another") {
  UserEntry entry = make_user_entry("alice", "pw", kTestIterations);
  std::string first = auth_message("alice", "client-nonce-1", "server-nonce-1");
  std::string proof = client_proof("pw", entry.salt, entry.iterations, first);
  CHECK(verify_client_proof(entry, first, proof));
  CHECK_FALSE(verify_client_proof(entry, auth_message("alice", "client-nonce-1", "server-nonce-2"), proof));
  CHECK_FALSE(verify_client_proof(entry, auth_message("alice", "client-nonce-2", "server-nonce-1"), proof));
  CHECK_FALSE(verify_client_proof(entry, auth_message("mallory", "client-nonce-1", "server-nonce-1"), proof));
}

TEST_CASE("the stored entry alone cannot log in") {
  UserEntry entry = make_user_entry("alice", "secret", kTestIterations);
  std::string message = auth_message("alice", "cn", "sn");
  // Someone who read config.xml tries the stored keys as passwords...
  CHECK_FALSE(
      verify_client_proof(entry, message, client_proof(entry.stored_key, entry.salt, entry.iterations, message)));
  CHECK_FALSE(
      verify_client_proof(entry, message, client_proof(entry.server_key, entry.salt, entry.iterations, message)));
  // ...or builds a proof straight from StoredKey, as if it were ClientKey.
  std::string forged =
      server_signature(UserEntry{"alice", entry.salt, entry.iterations, "", entry.stored_key}, message);
  for (std::size_t i = 0; i < forged.size(); ++i) forged[i] = static_cast<char>(forged[i] ^ entry.stored_key[i]);
  CHECK_FALSE(verify_client_proof(entry, message, forged));
}

TEST_CASE("proofs of the wrong size or from an entry without keys are refused") {
  UserEntry entry = make_user_entry("alice", "pw", kTestIterations);
  std::string message = auth_message("alice", "cn", "sn");
  std::string proof = client_proof("pw", entry.salt, entry.iterations, message);
  CHECK_FALSE(verify_client_proof(entry, message, ""));
  CHECK_FALSE(verify_client_proof(entry, message, proof.substr(1)));
  CHECK_FALSE(verify_client_proof(entry, message, proof + "x"));
  CHECK_FALSE(verify_client_proof(UserEntry{"alice", entry.salt, entry.iterations, "", ""}, message, proof));
}

TEST_CASE("the client accepts the genuine server's signature and no other") {
  UserEntry entry = make_user_entry("alice", "pw", kTestIterations);
  UserEntry impostor = make_user_entry("alice", "other", kTestIterations);
  std::string message = auth_message("alice", "cn", "sn");
  std::string signature = server_signature(entry, message);
  CHECK(signature.size() == kAuthKeySize);
  CHECK(verify_server_signature("pw", entry.salt, entry.iterations, message, signature));
  CHECK_FALSE(
      verify_server_signature("pw", entry.salt, entry.iterations, auth_message("alice", "cn", "sX"), signature));
  CHECK_FALSE(
      verify_server_signature("pw", entry.salt, entry.iterations, message, server_signature(impostor, message)));
  CHECK_FALSE(verify_server_signature("pw", entry.salt, entry.iterations, message, ""));
}

TEST_CASE("the client refuses to compute absurd iteration counts a server asks for") {
  CHECK(client_proof("pw", "salt", 0, "m").empty());
  CHECK(client_proof("pw", "salt", kMaxAuthIterations + 1, "m").empty());
  CHECK_FALSE(verify_server_signature("pw", "salt", 0, "m", std::string(32, 'x')));
  CHECK_FALSE(verify_server_signature("pw", "salt", 4'000'000'000u, "m", std::string(32, 'x')));
  UserEntry entry = make_user_entry("alice", "pw", kTestIterations);
  CHECK_FALSE(verify_client_proof(entry, "m", client_proof("pw", entry.salt, 0, "m")));
}

TEST_CASE("the same password gets a different salt and keys each time") {
  UserEntry a = make_user_entry("alice", "pw", kTestIterations);
  UserEntry b = make_user_entry("alice", "pw", kTestIterations);
  CHECK(a.salt != b.salt);
  CHECK(a.stored_key != b.stored_key);
  CHECK(random_bytes(18).size() == 18);
  CHECK(random_bytes(0).empty());
  CHECK(random_bytes(16) != random_bytes(16));
}

TEST_CASE("make_user_entry clamps the iteration count into the accepted range") {
  CHECK(make_user_entry("a", "pw", 0).iterations == 1);
  CHECK(make_user_entry("a", "pw").iterations == kDefaultAuthIterations);
}

TEST_CASE("a user entry survives format_user_entry and parse_user_entry") {
  UserEntry entry = make_user_entry("build-bot_2.x", "pw", kTestIterations);
  std::string text = format_user_entry(entry);
  CHECK(text.rfind("build-bot_2.x:64:", 0) == 0);
  auto parsed = parse_user_entry(text);
  REQUIRE(parsed.ok());
  CHECK(parsed->name == entry.name);
  CHECK(parsed->iterations == entry.iterations);
  CHECK(parsed->salt == entry.salt);
  CHECK(parsed->stored_key == entry.stored_key);
  CHECK(parsed->server_key == entry.server_key);
  CHECK(login(*parsed, "pw"));
}

TEST_CASE("malformed user entries are refused with the user's name") {
  UserEntry entry = make_user_entry("bob", "pw", kTestIterations);
  std::string salt = encode_base64(entry.salt);
  std::string key = encode_base64(entry.stored_key);
  auto refused = [](const std::string& text, const std::string& what) {
    auto r = parse_user_entry(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Errc::bad_request);
    INFO(r.status().message());
    CHECK(r.status().message().find(what) != std::string::npos);
  };
  refused("bob:64:" + salt + ":" + key, "user bob: expected NAME:ITERATIONS");
  refused("bob:0:" + salt + ":" + key + ":" + key, "user bob: iterations must be");
  refused("bob:x:" + salt + ":" + key + ":" + key, "user bob: iterations must be");
  refused("bob:2000000:" + salt + ":" + key + ":" + key, "user bob: iterations must be");
  refused("bob:64:!!:" + key + ":" + key, "user bob: the salt");
  refused("bob:64::" + key + ":" + key, "user bob: the salt");
  refused("bob:64:" + salt + ":" + salt + ":" + key, "user bob: the stored key");
  refused("bob:64:" + salt + ":" + key + ":Zg==", "user bob: the server key");
  refused("b o b:64:" + salt + ":" + key + ":" + key, "'b o b:64:");
  refused(":64:" + salt + ":" + key + ":" + key, "the name must be");
}
