// The public entry points of the fttp client (include/fourinone/fileops.hpp): connect,
// servers, options from config.xml, and the record and integer readers built on the rest.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/wire_archive.hpp"
#include "fileops/client/fttp_client.hpp"
#include "fileops/fttp_config.hpp"
#include "fourinone/registry.hpp"

namespace fourinone {

Result<FttpOptions> FttpOptions::from_config(const Config& config) {
  auto settings = fileops::load_fttp_settings(config);
  if (!settings.ok()) return settings.status();
  FttpOptions o;
  o.chunk = settings->chunk;
  o.service = settings->service;
  o.tls = config.park.tls;
  if (const char* user = std::getenv("FOURINONE_USER")) o.user = user;
  if (const char* password = std::getenv("FOURINONE_PASSWORD")) o.password = password;
  return o;
}

Result<std::unique_ptr<Fttp>> Fttp::connect(const FttpOptions& options) {
  if (options.chunk < 4096) return Status(Errc::bad_request, "FttpOptions::chunk must be at least 4096 bytes");
  return std::unique_ptr<Fttp>(new fileops::FttpClient(options));
}

Result<std::vector<FttpServerInfo>> Fttp::servers(Park& park, std::string_view service) {
  ServiceRegistry registry(park);
  auto live = registry.instances(service);
  if (!live.ok()) return live.status();
  std::vector<FttpServerInfo> out;
  for (const auto& instance : live.value()) {
    FttpServerInfo info;
    info.address = instance.address;
    if (auto it = instance.metadata.find("roots"); it != instance.metadata.end() && !it->second.empty()) {
      info.roots = split_config_list(it->second, ',');
    }
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.address < b.address; });
  return out;
}

Result<std::vector<std::string>> Fttp::read_records(const FttpUrl& url, char delimiter) {
  std::vector<std::string> out;
  Status s = for_each_record(url, delimiter, [&](std::string_view record) {
    out.emplace_back(record);
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<std::string>> Fttp::read_lines(const FttpUrl& url) { return read_records(url, '\n'); }

namespace {

Result<std::vector<std::int32_t>> ints_of(const FttpUrl& url, const std::string& bytes) {
  if (bytes.size() % 4 != 0) {
    return Status(Errc::bad_request, url.to_string() + " holds " + std::to_string(bytes.size()) +
                                         " bytes, not a whole number of 4-byte integers");
  }
  std::vector<std::int32_t> out(bytes.size() / 4);
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::int32_t v = 0;
    std::memcpy(&v, bytes.data() + 4 * i, 4);
    out[i] = core::to_little_endian(v);  // the same swap turns little-endian into host order
  }
  return out;
}

}  // namespace

Result<std::vector<std::int32_t>> Fttp::read_ints(const FttpUrl& url) {
  auto bytes = read_file(url);
  if (!bytes.ok()) return bytes.status();
  return ints_of(url, bytes.value());
}

Result<std::vector<std::int32_t>> Fttp::read_ints(const FttpUrl& url, std::uint64_t first, std::uint64_t count) {
  if (first > (~std::uint64_t{0} >> 3) || count > (~std::uint64_t{0} >> 3)) {
    return Status(Errc::bad_request, "integer range too large");
  }
  auto bytes = read(url, first * 4, count * 4);
  if (!bytes.ok()) return bytes.status();
  return ints_of(url, bytes.value());
}

Status Fttp::write_ints(const FttpUrl& url, const std::vector<std::int32_t>& values) {
  std::string bytes(values.size() * 4, '\0');
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::int32_t v = core::to_little_endian(values[i]);
    std::memcpy(bytes.data() + 4 * i, &v, 4);
  }
  return write_file(url, bytes);
}

}  // namespace fourinone
