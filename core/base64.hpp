// Base64 (RFC 4648, standard alphabet, '=' padding) on OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock,
// used for the binary parts of USERS entries in config.xml. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fourinone::core {

// Encodes any bytes; the result is padded to a multiple of 4 characters.
std::string encode_base64(std::string_view bytes);

// Decodes text made by encode_base64. Returns nullopt for anything else: a character outside
// the alphabet (whitespace included), a length that is not a multiple of 4, misplaced or
// excess '=' padding, or unused low bits that are not zero (so each byte string has exactly
// one accepted encoding).
std::optional<std::string> decode_base64(std::string_view text);

}  // namespace fourinone::core
