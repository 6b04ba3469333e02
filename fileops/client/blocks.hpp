// run_blocks: many block requests spread over several connections, several in flight on each.
//
// DESIGN: block i goes to whichever connection is free next (a shared counter), so a slow
// connection does fewer blocks rather than holding the rest back. Each connection keeps up to
// `window` requests in flight (pipelining hides the round trip; several connections use
// several server disk threads and client io threads). `make(i)` builds block i's frame on the
// thread that sends it (pread of a local file goes straight into the frame); `on_reply(i, r)`
// runs on the answering connection's io thread, possibly on several threads at once for
// different blocks. The first error stops new blocks; run_blocks returns once every block in
// flight has answered. Blocking; REQUIRES: not called from a connection's io thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fileops/client/connection.hpp"

namespace fourinone::fileops {

using MakeBlock = std::function<Result<std::string>(std::size_t index)>;
using OnBlockReply = std::function<Status(std::size_t index, Reply& reply)>;

Status run_blocks(const std::vector<FttpConnection*>& connections, std::size_t window, std::size_t count,
                  const MakeBlock& make, const OnBlockReply& on_reply);

}  // namespace fourinone::fileops
