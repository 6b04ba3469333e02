// WireOutputArchive / WireInputArchive: the cereal archives of every frame body, log entry and
// WareHouse object. Not part of the API: public only because WareHouse's object templates
// compile it into the caller's code (include/fourinone/warehouse.hpp).
//
// Why our own archive and not cereal's binary ones: a body comes from the network, and
// cereal's std::string and std::vector loaders resize to the length field *before* reading
// the bytes. WireInputArchive refuses any length larger than the bytes left in the body, so a
// hostile length field cannot make us allocate (DESIGN §3: limits checked before allocation).
// Integers are little-endian on the wire whatever the host; see park/protocol/WIRE.md.
// encode()/decode() are the entry points; decode() turns every cereal exception into
// bad_request naming what failed. Thread-safety: archives are single-use local objects.
#pragma once

#include <bit>
#include <cereal/cereal.hpp>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "fourinone/error.hpp"

namespace fourinone::core {

class WireOutputArchive : public cereal::OutputArchive<WireOutputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit WireOutputArchive(std::string& out)
      : cereal::OutputArchive<WireOutputArchive, cereal::AllowEmptyClassElision>(this), out_(out) {}
  void save_bytes(const void* data, std::size_t size) { out_.append(static_cast<const char*>(data), size); }

 private:
  std::string& out_;
};

class WireInputArchive : public cereal::InputArchive<WireInputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit WireInputArchive(std::string_view in)
      : cereal::InputArchive<WireInputArchive, cereal::AllowEmptyClassElision>(this), in_(in) {}
  void load_bytes(void* data, std::size_t size) {
    if (size > in_.size() - pos_) throw cereal::Exception("truncated body: wanted " + std::to_string(size) + " bytes, " +
                                                          std::to_string(in_.size() - pos_) + " left");
    if (size == 0) return;  // an empty string's data() may be null, and memcpy must not get null
    std::memcpy(data, in_.data() + pos_, size);
    pos_ += size;
  }
  std::size_t remaining() const noexcept { return in_.size() - pos_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

template <class T>
inline T to_little_endian(T value) {
  if constexpr (std::endian::native == std::endian::big && sizeof(T) > 1) {
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    for (std::size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(bytes[i], bytes[sizeof(T) - 1 - i]);
    std::memcpy(&value, bytes, sizeof(T));
  }
  return value;
}

template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_SAVE_FUNCTION_NAME(WireOutputArchive& ar, const T& t) {
  T v = to_little_endian(t);
  ar.save_bytes(&v, sizeof(v));
}

template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_LOAD_FUNCTION_NAME(WireInputArchive& ar, T& t) {
  if constexpr (std::is_same_v<T, bool>) {
    // Any byte other than 0/1 is garbage, not "true". Checked as a byte: a bool holding any
    // other value is undefined behaviour (the fuzzer's UBSan found the old check came too late).
    unsigned char raw = 0;
    ar.load_bytes(&raw, 1);
    if (raw > 1) throw cereal::Exception("bad bool byte");
    t = raw == 1;
  } else {
    ar.load_bytes(&t, sizeof(t));
    t = to_little_endian(t);
  }
}

template <class Archive, class T>
inline CEREAL_ARCHIVE_RESTRICT(WireInputArchive, WireOutputArchive)
    CEREAL_SERIALIZE_FUNCTION_NAME(Archive& ar, cereal::NameValuePair<T>& t) {
  ar(t.value);
}

template <class T>
inline void CEREAL_SAVE_FUNCTION_NAME(WireOutputArchive& ar, const cereal::SizeTag<T>& t) {
  auto size = static_cast<std::uint64_t>(t.size);
  ar(size);
}

template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(WireInputArchive& ar, cereal::SizeTag<T>& t) {
  std::uint64_t size = 0;
  ar(size);
  // Every element of every container we send takes at least one byte.
  if (size > ar.remaining()) {
    throw cereal::Exception("length field " + std::to_string(size) + " exceeds the " + std::to_string(ar.remaining()) +
                            " bytes left");
  }
  t.size = static_cast<std::remove_reference_t<T>>(size);
}

template <class T>
inline void CEREAL_SAVE_FUNCTION_NAME(WireOutputArchive& ar, const cereal::BinaryData<T>& bd) {
  ar.save_bytes(bd.data, static_cast<std::size_t>(bd.size));
}

template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(WireInputArchive& ar, cereal::BinaryData<T>& bd) {
  ar.load_bytes(bd.data, static_cast<std::size_t>(bd.size));
}

// Appends the encoding of `value` to `out`.
template <class T>
void encode_into(std::string& out, const T& value) {
  WireOutputArchive archive(out);
  archive(value);
}

template <class T>
std::string encode(const T& value) {
  std::string out;
  encode_into(out, value);
  return out;
}

// Decodes a whole body; trailing bytes are an error too (a truncated or garbage frame must
// never half-decode into something plausible).
template <class T>
Status decode(std::string_view bytes, T& value, const char* what) {
  try {
    WireInputArchive archive(bytes);
    archive(value);
    if (archive.remaining() != 0) {
      return Status(Errc::bad_request, std::string(what) + ": " + std::to_string(archive.remaining()) + " trailing bytes");
    }
    return {};
  } catch (const std::exception& e) {
    return Status(Errc::bad_request, std::string(what) + " does not decode: " + e.what());
  }
}

}  // namespace fourinone::core

CEREAL_REGISTER_ARCHIVE(fourinone::core::WireOutputArchive)
CEREAL_REGISTER_ARCHIVE(fourinone::core::WireInputArchive)
CEREAL_SETUP_ARCHIVE_TRAITS(fourinone::core::WireInputArchive, fourinone::core::WireOutputArchive)
