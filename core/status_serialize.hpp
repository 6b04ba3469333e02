// cereal encoding of Status: a code byte and the message. Unknown codes are refused.
#pragma once

#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>
#include <cstdint>
#include <string>

#include "fourinone/error.hpp"

namespace fourinone {

template <class Archive>
void save(Archive& ar, const Status& s) {
  ar(static_cast<std::uint8_t>(s.code()), s.message());
}

template <class Archive>
void load(Archive& ar, Status& s) {
  std::uint8_t code = 0;
  std::string message;
  ar(code, message);
  if (code > static_cast<std::uint8_t>(kLastErrc)) throw cereal::Exception("unknown error code");
  s = Status(static_cast<Errc>(code), std::move(message));
}

}  // namespace fourinone
