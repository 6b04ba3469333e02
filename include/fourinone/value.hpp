// Typed node values. A std::string (or anything convertible to std::string_view) is stored as
// its own bytes, so other languages and the CLI read it as text. Any other type is stored in
// cereal's portable binary form; it must be cereal-serializable (arithmetic types, std
// containers with the matching cereal/types header included, or a type with serialize()).
// Thread-safety: free functions with no shared state.
#pragma once

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <concepts>
#include <sstream>
#include <string>
#include <string_view>
#include <typeinfo>

#include "fourinone/error.hpp"

namespace fourinone {

template <class T>
concept TextValue = std::convertible_to<const T&, std::string_view>;

// The bytes stored for a value.
template <class T>
std::string encode_value(const T& value) {
  if constexpr (TextValue<T>) {
    return std::string(std::string_view(value));
  } else {
    std::ostringstream out;
    {
      cereal::PortableBinaryOutputArchive archive(out);
      archive(value);
    }
    return std::move(out).str();
  }
}

// The value back from its bytes; bad_request naming the type when the bytes do not decode.
template <class T>
Result<T> decode_value(std::string_view bytes) {
  if constexpr (std::same_as<T, std::string>) {
    return std::string(bytes);
  } else {
    try {
      std::istringstream in{std::string(bytes)};
      cereal::PortableBinaryInputArchive archive(in);
      T value{};
      archive(value);
      return value;
    } catch (const std::exception& e) {
      return Status(Errc::bad_request, std::string("value does not decode as ") + typeid(T).name() + ": " + e.what());
    }
  }
}

}  // namespace fourinone
