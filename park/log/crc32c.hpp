// CRC-32C (Castagnoli), the checksum of every WAL record: it tells a torn or corrupt record
// from a whole one. Internal to park/log/. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fourinone::park {

// The CRC-32C of `data`, continuing from `crc` (0 to start). crc32c("123456789") == 0xE3069283.
// Uses the CPU's crc32 instruction where there is one (x86-64 with SSE4.2), else tables.
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0);

// The two ways, for tests that hold them to the same answers. crc32c_hardware is only there
// (non-null) on a CPU that has the instruction.
std::uint32_t crc32c_tables(std::string_view data, std::uint32_t crc = 0);
using Crc32cFunction = std::uint32_t (*)(std::string_view data, std::uint32_t crc);
Crc32cFunction crc32c_hardware();

}  // namespace fourinone::park
