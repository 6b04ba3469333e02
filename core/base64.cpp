// Base64 through OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock (libcrypto, linked already for
// logins and TLS). EVP_DecodeBlock is lenient where we are strict (it skips surrounding
// whitespace and returns padding as zero bytes), so a decoding is kept only when encoding it
// again gives back the very text: that refuses everything base64.hpp lists, in one rule.
#include "core/base64.hpp"

#include <openssl/evp.h>

namespace fourinone::core {
namespace {

// OpenSSL counts in int; longer inputs go through in pieces of this many bytes (a multiple of 3)
// or characters (a multiple of 4).
constexpr std::size_t kEncodeChunk = 3 << 20;
constexpr std::size_t kDecodeChunk = kEncodeChunk / 3 * 4;

const unsigned char* bytes_of(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

std::string encode_base64(std::string_view bytes) {
  std::string out((bytes.size() + 2) / 3 * 4, '\0');
  std::size_t written = 0;
  for (std::size_t i = 0; i < bytes.size(); i += kEncodeChunk) {
    std::string_view chunk = bytes.substr(i, kEncodeChunk);
    // Writes 4 characters per 3 bytes (the last group padded with '=') and a NUL, which lands
    // on the next chunk's first character or on std::string's own terminator.
    written += static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + written),
                                                        bytes_of(chunk), static_cast<int>(chunk.size())));
  }
  out.resize(written);
  return out;
}

std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  std::size_t written = 0;
  for (std::size_t i = 0; i < text.size(); i += kDecodeChunk) {
    std::string_view chunk = text.substr(i, kDecodeChunk);
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data() + written), bytes_of(chunk),
                            static_cast<int>(chunk.size()));
    if (n < 0) return std::nullopt;
    written += static_cast<std::size_t>(n);
  }
  // EVP_DecodeBlock counts padding as bytes: drop one per '=' (at most two, at the very end).
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  if (padding > written) return std::nullopt;
  out.resize(written - padding);
  // Only the canonical text of those bytes is accepted: no whitespace, no '=' inside, no
  // unused bits set, no third '='.
  if (encode_base64(out) != text) return std::nullopt;
  return out;
}

}  // namespace fourinone::core
