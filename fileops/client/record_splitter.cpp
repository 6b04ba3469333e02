#include "fileops/client/record_splitter.hpp"

namespace fourinone::fileops {

bool RecordSplitter::emit(std::string_view record, const Each& each) {
  if (strip_cr_ && !record.empty() && record.back() == '\r') record.remove_suffix(1);
  if (!each(record)) stopped_ = true;
  return !stopped_;
}

bool RecordSplitter::feed(std::string_view block, const Each& each) {
  while (!stopped_ && !block.empty()) {
    std::size_t at = block.find(delimiter_);
    if (at == std::string_view::npos) {
      carry_.append(block);
      return true;
    }
    if (carry_.empty()) {
      emit(block.substr(0, at), each);  // the common case: no copy
    } else {
      carry_.append(block.substr(0, at));
      std::string record = std::move(carry_);
      carry_.clear();
      emit(record, each);
    }
    block.remove_prefix(at + 1);
  }
  return !stopped_;
}

bool RecordSplitter::finish(const Each& each) {
  if (stopped_) return false;
  if (carry_.empty()) return true;
  std::string record = std::move(carry_);
  carry_.clear();
  return emit(record, each);
}

}  // namespace fourinone::fileops
