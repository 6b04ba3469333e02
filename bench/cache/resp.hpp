// RESP, Redis's wire protocol: the request writing and reply parsing that the Redis targets of
// cache_bench (resp_target.cpp: GET/SET) and mq_bench (bench/mq/redis_target.cpp: LPUSH and
// BLMPOP/BRPOP) share. Requests are RESP arrays of bulk strings (what redis-benchmark sends);
// replies are parsed whole from the bytes read so far, the StreamConnection way (an incomplete
// one is parsed again from its start once more bytes came).
#pragma once

#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "stream_connection.hpp"

namespace cachebench::resp {

// A header line longer than this without its CRLF is not a reply of ours.
inline constexpr std::size_t kMaxLine = 64 * 1024;

inline void append_number(std::string& out, std::size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

inline void append_bulk(std::string& out, std::string_view s) {
  out += '$';
  append_number(out, s.size());
  out += "\r\n";
  out += s;
  out += "\r\n";
}

// The header line at the start of `in` (its type byte at in[0]): the line without type byte
// and CRLF in `line`, and the bytes it takes; kIncomplete or kMalformed as parse_reply.
inline std::ptrdiff_t header(std::string_view in, std::string_view& line, Reply& reply) {
  std::size_t eol = in.find("\r\n");
  if (eol == std::string_view::npos) {
    if (in.size() <= kMaxLine) return kIncomplete;
    reply.text = "a reply line without its end";
    return kMalformed;
  }
  if (eol == 0) {
    reply.text = "an empty reply line";
    return kMalformed;
  }
  line = in.substr(1, eol - 1);
  return static_cast<std::ptrdiff_t>(eol + 2);
}

// A length of "$N" or "*N" (-1 for the null bulk string or array); false if not a number >= -1.
inline bool length_of(std::string_view line, long long& length) {
  auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), length);
  return ec == std::errc() && end == line.data() + line.size() && length >= -1;
}

// Parses the reply at the start of `in` that is not an array: the bytes it takes, kIncomplete
// when more must be read first, or kMalformed (reply.text says why). "+..." and ":..." are ok
// (SET answers "+OK", LPUSH ":<length>"), "$N" bulk strings ok with their bytes in reply.text
// (a GET's hit), "$-1" a miss, "-..." an error. reply.text points into `in`.
inline std::ptrdiff_t parse(std::string_view in, Reply& reply) {
  std::string_view line;
  std::ptrdiff_t head = header(in, line, reply);
  if (head <= 0) return head;
  switch (in[0]) {
    case '+':
    case ':':
      reply = {ReplyKind::ok, line};
      return head;
    case '-':
      // Redis answers every command, so the stream stays in step after an error reply.
      reply = {ReplyKind::error, line};
      return head;
    case '$': {
      long long length = 0;
      if (!length_of(line, length)) {
        reply.text = "a bad bulk string length";
        return kMalformed;
      }
      if (length == -1) {
        reply = {ReplyKind::miss, {}};
        return head;
      }
      auto total = head + static_cast<std::ptrdiff_t>(length) + 2;
      if (static_cast<std::ptrdiff_t>(in.size()) < total) return kIncomplete;
      if (in.substr(static_cast<std::size_t>(total - 2), 2) != "\r\n") {
        reply.text = "a bulk string without its CRLF";
        return kMalformed;
      }
      reply = {ReplyKind::ok, in.substr(static_cast<std::size_t>(head), static_cast<std::size_t>(length))};
      return total;
    }
    default:
      reply.text = "a reply of an unexpected type";
      return kMalformed;
  }
}

// As parse, arrays too (nested ones included): every bulk string inside, in order and at any
// depth, is appended to `bulks` (views into `in`). A null array ("*-1", what a blocking pop
// answers when its wait ended) is a miss; an array holding an error reply is that error. Only
// a whole reply appends anything: on kIncomplete or kMalformed `bulks` is as it was.
inline std::ptrdiff_t parse_with_arrays(std::string_view in, Reply& reply, std::vector<std::string_view>& bulks) {
  if (in.empty() || in[0] != '*') {
    std::ptrdiff_t used = parse(in, reply);
    if (used > 0 && reply.kind == ReplyKind::ok && in[0] == '$') bulks.push_back(reply.text);
    return used;
  }
  std::string_view line;
  std::ptrdiff_t used = header(in, line, reply);
  if (used <= 0) return used;
  long long count = 0;
  if (!length_of(line, count)) {
    reply.text = "a bad array length";
    return kMalformed;
  }
  if (count == -1) {
    reply = {ReplyKind::miss, {}};
    return used;
  }
  std::size_t kept = bulks.size();
  reply = {ReplyKind::ok, {}};
  for (long long i = 0; i < count; ++i) {
    Reply element;
    std::ptrdiff_t n = parse_with_arrays(in.substr(static_cast<std::size_t>(used)), element, bulks);
    if (n <= 0) {
      bulks.resize(kept);
      reply = element;
      return n;
    }
    if (element.kind == ReplyKind::error && reply.kind != ReplyKind::error) reply = element;  // the first
    used += n;
  }
  return used;
}

}  // namespace cachebench::resp
