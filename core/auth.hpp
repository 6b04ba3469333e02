// Login by challenge and response, in the style of SCRAM-SHA-256 (RFC 5802/7677), used by the
// hello/auth handshake of core/rpc_server and core/rpc_client (DESIGN §3, §4.5).
//
// The password never travels, and what config.xml stores (UserEntry) cannot log in by itself:
//   SaltedPassword  = PBKDF2-HMAC-SHA256(password, salt, iterations, 32 bytes)
//   ClientKey       = HMAC-SHA256(SaltedPassword, "Client Key")
//   StoredKey       = SHA-256(ClientKey)                      stored in config.xml
//   ServerKey       = HMAC-SHA256(SaltedPassword, "Server Key")  stored in config.xml
//   AuthMessage     = user "," client_nonce "," server_nonce  (raw bytes joined by commas;
//                     both sides build it the same way, see auth_message())
//   ClientProof     = ClientKey XOR HMAC-SHA256(StoredKey, AuthMessage)   client -> server
//   ServerSignature = HMAC-SHA256(ServerKey, AuthMessage)                 server -> client
// The server recovers ClientKey from the proof and checks SHA-256(ClientKey) == StoredKey; the
// client checks the signature, so a fake server that lacks ServerKey is caught too. Fresh
// nonces on both sides make a recorded proof useless for another connection. Unlike RFC 5802
// there is no GS2 header or channel binding, and the messages travel in our own frames.
//
// All functions are thread-safe (OpenSSL 3 needs no locking setup).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fourinone/config.hpp"
#include "fourinone/error.hpp"

namespace fourinone::core {

// PBKDF2 rounds for new entries: RFC 7677's minimum; `fourinone passwd` uses it.
inline constexpr std::uint32_t kDefaultAuthIterations = 4096;
// The most rounds a client agrees to compute (and config.xml accepts): a hostile server must not
// be able to burn a client's CPU by asking for billions.
inline constexpr std::uint32_t kMaxAuthIterations = 1'000'000;
// The login name park servers use between themselves, with the group key (PARK/GROUPKEY) as
// its password. '#' is outside the characters a user name may have, so no user can take it.
inline constexpr std::string_view kGroupUser = "#group";
// The shortest group key config.xml accepts.
inline constexpr std::size_t kMinGroupKeySize = 16;
// Bytes of salt in new entries, and of every key, proof and signature (SHA-256 size).
inline constexpr std::size_t kAuthSaltSize = 16;
inline constexpr std::size_t kAuthKeySize = 32;

// A new entry for `name` with a random salt. The password is not kept.
// REQUIRES: 1 <= iterations <= kMaxAuthIterations (other values are clamped into that range).
UserEntry make_user_entry(std::string name, std::string_view password,
                          std::uint32_t iterations = kDefaultAuthIterations);

// The USERS text form of one entry: name:iterations:salt:storedkey:serverkey, the last three
// in standard base64 with padding. Several entries are joined with ',' in config.xml.
std::string format_user_entry(const UserEntry& entry);

// The reverse of format_user_entry. Errors: bad_request naming the user (or the text when even
// the name is unreadable) and what is wrong: a name outside [A-Za-z0-9_.-]+, iterations outside
// 1..kMaxAuthIterations, bad base64, an empty salt, or keys that are not kAuthKeySize bytes.
Result<UserEntry> parse_user_entry(std::string_view text);

// n bytes from the operating system's CSPRNG (RAND_bytes). Aborts the process if OpenSSL
// cannot produce them: logging in with predictable nonces or salts would be worse.
std::string random_bytes(std::size_t n);

// The AuthMessage both sides sign: user + "," + client_nonce + "," + server_nonce.
std::string auth_message(std::string_view user, std::string_view client_nonce, std::string_view server_nonce);

// Client side: the proof to send for this password and the salt and iterations the server gave.
// Returns "" (which never verifies) when iterations is 0 or above kMaxAuthIterations.
std::string client_proof(std::string_view password, std::string_view salt, std::uint32_t iterations,
                         std::string_view auth_message);

// Server side: true when `proof` was made from the entry's password for this auth message.
// The comparison takes the same time whatever the bytes (CRYPTO_memcmp).
bool verify_client_proof(const UserEntry& entry, std::string_view auth_message, std::string_view proof);

// Server side: the signature that proves to the client that this server holds the entry.
std::string server_signature(const UserEntry& entry, std::string_view auth_message);

// Client side: true when `signature` matches what a server holding this password's entry
// would send. False for iterations outside 1..kMaxAuthIterations.
bool verify_server_signature(std::string_view password, std::string_view salt, std::uint32_t iterations,
                             std::string_view auth_message, std::string_view signature);

}  // namespace fourinone::core
