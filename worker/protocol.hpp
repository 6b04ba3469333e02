// The worker wire: what a contractor (or another worker) sends a worker over the core RPC,
// and what it answers. Bodies are cereal in the WireArchive (core/wire_archive.hpp), so a
// hostile length field cannot make a worker allocate. Internal to worker/.
//
// Every answer is a WorkerReply: errors travel in it rather than as RPC error frames, because
// an RPC error frame closes the connection, and a worker that gets one malformed task must go
// on serving the others on that connection.
#pragma once

#include <cereal/types/string.hpp>
#include <cstdint>
#include <string>

#include "core/status_serialize.hpp"
#include "fourinone/error.hpp"

namespace fourinone::detail {

enum class WorkerCall : std::uint8_t {
  task = 1,       // payload: an encoded WareHouse; reply payload: the result WareHouse
  interrupt = 2,  // task_id: the task to interrupt (0: every task from this connection)
  receive = 3,    // payload: an encoded WareHouse; reply: accepted
};

struct WorkerRequest {
  WorkerCall call = WorkerCall::task;
  std::uint64_t task_id = 0;     // chosen by the caller, unique on its connection
  std::int64_t timeout_ms = 0;   // task: interrupt it after this long (0: never)
  std::string payload;
  template <class A>
  void serialize(A& ar) {
    std::uint8_t c = static_cast<std::uint8_t>(call);
    ar(c, task_id, timeout_ms, payload);
    call = static_cast<WorkerCall>(c);
  }
};

struct WorkerReply {
  Status status;          // not OK: the call was refused (bad payload, service worker, ...)
  bool accepted = false;  // receive
  std::string payload;    // task: the encoded result WareHouse
  template <class A>
  void serialize(A& ar) { ar(status, accepted, payload); }
};

}  // namespace fourinone::detail
