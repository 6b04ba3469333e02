// What every fuzz target shares: a wire round trip that must hold for whatever decodes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "core/wire_archive.hpp"

namespace fourinone::fuzz {

inline std::string_view view(const std::uint8_t* data, std::size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// Bytes that decode as a T must encode again to bytes that decode to the same encoding: a
// decoder that accepts what the encoder could never produce, or loses part of it, fails here.
template <class T>
void round_trip(std::string_view bytes, const char* what) {
  T value;
  if (!core::decode(bytes, value, what).ok()) return;
  const std::string once = core::encode(value);
  T again;
  if (!core::decode(once, again, what).ok()) __builtin_trap();
  if (core::encode(again) != once) __builtin_trap();
}

}  // namespace fourinone::fuzz
