// CRC-32C (Castagnoli), the checksum of every WAL record: it tells a torn or corrupt record
// from a whole one. Internal to park/log/. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fourinone::park {

// The CRC-32C of `data`, continuing from `crc` (0 to start). crc32c("123456789") == 0xE3069283.
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0);

}  // namespace fourinone::park
