// The FTTP row of config.xml: the file servers and the roots they expose.
//
//   <PROPSROW DESC="FTTP">
//     <SERVERS>localhost:2121</SERVERS>                  the fttp servers (HOST:PORT, ...)
//     <ROOTS>shared=data/fttp,logs=/var/log:ro</ROOTS>  NAME=FOLDER[:ro], ... (required with SERVERS)
//     <SERVICE>fttp</SERVICE>                            registry service name in the park
//     <CHUNK>4M</CHUNK>                                  bytes per read/write request
//     <THREADS>4</THREADS>                               disk threads of each server
//   </PROPSROW>
//
// Every server of SERVERS exposes the same ROOTS (run one config per host if hosts differ).
// A root is reachable as fttp://HOST:PORT/NAME/...; nothing outside the roots is. FOLDER is
// absolute or relative to the config file's folder; ":ro" makes the root read-only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fileops/path/root_fs.hpp"
#include "fourinone/config.hpp"
#include "fourinone/error.hpp"

namespace fourinone::fileops {

struct FttpSettings {
  std::vector<ServerAddress> servers;
  // FTTP/HTTP: each server's status page and /metrics, in the order of `servers` (or empty).
  std::vector<ServerAddress> http;
  std::vector<RootSpec> roots;  // config order; folders made absolute
  std::string service = "fttp";
  std::uint32_t chunk = 4u << 20;
  std::uint32_t threads = 4;
};

// Errors: config_error "FILE:LINE: ELEMENT in row FTTP: why, got 'text'". A missing row gives
// the defaults with no servers and no roots.
Result<FttpSettings> load_fttp_settings(const Config& config);

}  // namespace fourinone::fileops
