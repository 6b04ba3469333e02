// The file server's request and response bodies (inside core frames; byte layout in
// fileops/protocol/WIRE.md).
//
// A body is a head (the cereal struct below) followed by the data as one length-prefixed
// byte string (u64 count, then the bytes). The data is kept out of the struct so that the
// server can pread straight into a response frame and read a write's bytes where they lie
// in the request frame, and so the client can do the same: a 4 MiB block is never copied
// into a temporary struct on either side.
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/wire_archive.hpp"

namespace fourinone::fileops::proto {

enum class Op : std::uint8_t {
  stat = 1,        // root, path -> entry
  list = 2,        // root, path (a folder; "" = the root) -> entries sorted by name
  mkdir = 3,       // flags: kParents
  remove = 4,      // a file or an empty folder; flags: kRecursive removes a folder's tree
  rename = 5,      // path -> path2 in the same root (root2 empty or equal)
  read = 6,        // offset, length -> data (shorter at the end of the file); size = file size;
                   // handle = the file's identity (file_identity). A read whose handle is not 0
                   // is refused with bad_version if the file under path has another identity
                   // (replaced meanwhile): a multi-block read never mixes two files
  write = 7,       // handle 0: in place at offset (flags kCreate, kTruncate); handle: into that write
  open_write = 8,  // two-phase: a temporary file beside path -> handle; length: size hint
  commit = 9,      // handle: fsync, rename over path, fsync the folder
  abort = 10,      // handle: remove the temporary file
  copy = 11,       // root, path -> path2: an fttp URL on another (or the same) server; the
                   // server pushes the bytes there itself
  roots = 12,      // -> entries: one folder entry per root (size 1: read-only)
};
inline constexpr std::uint8_t kMaxOp = 12;

// Request::flags
inline constexpr std::uint8_t kCreate = 1;     // write: create the file when missing
inline constexpr std::uint8_t kTruncate = 2;   // write: cut the file at the end of this write
inline constexpr std::uint8_t kParents = 4;    // mkdir: make missing parents; open_write too
inline constexpr std::uint8_t kRecursive = 8;  // remove: a folder with everything in it
inline constexpr std::uint8_t kExclusive = 16; // open_write/commit, copy: fail with exists if the name is taken
inline constexpr std::uint8_t kNoHoleCheck = 32;  // write in place: a later block of a multi-block write whose
                                                  // first block checked the range (blocks land in any order)

// Entry::type
inline constexpr std::uint8_t kFile = 1;
inline constexpr std::uint8_t kFolder = 2;
inline constexpr std::uint8_t kOther = 3;  // device, fifo, socket, dangling or escaping link

struct Request {
  std::uint8_t op = 0;
  std::string root;
  std::string path;    // relative to root
  std::string root2;   // rename: the target's root (empty: the same)
  std::string path2;   // rename: the target's path; copy: the destination URL
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint64_t handle = 0;
  std::uint8_t flags = 0;
  template <class A>
  void serialize(A& ar) { ar(op, root, path, root2, path2, offset, length, handle, flags); }
};

struct Entry {
  std::string name;
  std::uint8_t type = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;  // since the Unix epoch
  std::uint32_t mode = 0;     // permission bits
  template <class A>
  void serialize(A& ar) { ar(name, type, size, mtime_ns, mode); }
};

struct Response {
  std::uint8_t code = 0;  // Errc
  std::string message;
  Entry entry;                  // stat
  std::vector<Entry> entries;   // list, roots
  std::uint64_t handle = 0;     // open_write: the write; read: the file's identity
  std::uint64_t size = 0;       // read: the file's size; write/commit/copy: bytes written
  template <class A>
  void serialize(A& ar) { ar(code, message, entry, entries, handle, size); }
};

// head + data as one body appended to `out` (a frame_buffer() for a frame built in place).
template <class Head>
void encode_body(std::string& out, const Head& head, std::string_view data) {
  core::encode_into(out, head);
  core::encode_into(out, static_cast<std::uint64_t>(data.size()));
  out.append(data);
}

// Reads the head, then the data as a view into `body` (no copy).
// Errors: bad_request naming `what` for a body that does not decode exactly.
template <class Head>
Status decode_body(std::string_view body, Head& head, std::string_view& data, const char* what) {
  try {
    core::WireInputArchive archive(body);
    archive(head);
    std::uint64_t size = 0;
    archive(size);
    if (size != archive.remaining()) {
      return Status(Errc::bad_request, std::string(what) + ": data length " + std::to_string(size) + " but " +
                                           std::to_string(archive.remaining()) + " bytes follow");
    }
    data = body.substr(body.size() - size);
    return {};
  } catch (const std::exception& e) {
    return Status(Errc::bad_request, std::string(what) + " does not decode: " + e.what());
  }
}

}  // namespace fourinone::fileops::proto
