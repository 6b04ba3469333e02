// RecordSplitter: bytes arriving in blocks -> the records between delimiters, whatever the
// block edges (a record may start in one block and end several blocks later). Pure; one
// object per stream, not thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace fourinone::fileops {

class RecordSplitter {
 public:
  // Return false to stop: no more records are given.
  using Each = std::function<bool(std::string_view record)>;

  RecordSplitter(char delimiter, bool strip_cr) : delimiter_(delimiter), strip_cr_(strip_cr) {}

  // Gives every record that `block` completes. False once `each` asked to stop.
  bool feed(std::string_view block, const Each& each);
  // The last record when the stream did not end with a delimiter. False if `each` stopped.
  bool finish(const Each& each);

 private:
  bool emit(std::string_view record, const Each& each);

  char delimiter_;
  bool strip_cr_;         // lines: a "\r\n" ending loses its '\r' too
  std::string carry_;     // the start of a record whose end has not arrived yet
  bool stopped_ = false;
};

}  // namespace fourinone::fileops
