// A WAL segment as a disk may hand it back: the bytes become the only segment of a log that is
// then opened (replay, torn-tail cut, corruption checks) and read back whole.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "park/log/log_storage.hpp"
#include "tests/fuzz/fuzz_common.hpp"

namespace {

const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    spdlog::set_level(spdlog::level::off);  // every torn tail is a warning
    auto d = std::filesystem::temp_directory_path() / ("fourinone-wal-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fourinone;
  const auto& dir = scratch();
  std::error_code ec;
  std::filesystem::remove_all(dir / "wal", ec);
  std::filesystem::create_directories(dir / "wal");
  {
    std::ofstream out(dir / "wal" / "00000000000000000001.wal", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto log = park::open_wal_log(dir.string(), park::WalOptions{1 << 16, false});
  if (!log.ok()) return 0;
  auto& l = *log.value();
  if (l.first_index() > l.last_index() + 1) __builtin_trap();
  auto entries = l.read(l.first_index(), l.last_index() + 1, std::size_t{1} << 30);
  if (!entries.ok()) return 0;  // a record that reads back wrong is reported, not trusted
  if (entries->size() != l.last_index() + 1 - l.first_index()) __builtin_trap();
  return 0;
}
