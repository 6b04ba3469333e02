// Linearizability checking for client histories against a key/value park. Tests only.
//
// The model is one register per key: a value (std::optional<std::string>, nullopt = absent)
// read, written, compared-and-set and removed. A history is what clients saw: for every
// operation its client, key, inputs, call time, return time and outcome. check_linearizable()
// answers whether some total order of the operations (1) respects real time: an operation
// that returned before another was called comes first, and (2) replays on the register giving
// every operation the outcome (and, for a read, the value) its client saw.
//
// The search is Wing & Gong's backtracking over the operations pending at each point, with
// Lowe's memoization of (set of operations already placed, register value) so each
// configuration is explored once, plus a few rules that skip choices which can never do
// better than another (see search() in the .cpp). Keys are independent registers, so each key
// is checked on its own (P-compositionality), each with its own time budget.
//
// Outcomes:
//   ok / failed / not_found  the client got this answer (see Outcome);
//   unknown                  the call timed out or its connection dropped: it may have taken
//                            effect at any time after its call, or never. Its return time is
//                            taken as +infinity and its result is not checked;
//   failed_definitely        refused before doing anything: dropped from the history.
//
// Times: any std::int64_t clock; reports print them as nanoseconds (HistoryRecorder records
// steady_clock nanoseconds). An operation that returned at exactly the time another was
// called counts as concurrent with it (the lenient reading: equal timestamps never cause a
// false alarm).
//
// Limits: the problem is NP-complete and the search exponential in the worst case: many
// operations of one key pending at once (clients x overlap), and above all many unknown
// outcomes, which stay pending forever. Proving a history NOT linearizable costs more than
// accepting one, since every order must be ruled out. A key whose search exceeds the budget,
// or 512 MiB of memo, gives Verdict::timed_out, which callers must treat as a failure, never
// as a pass.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fourinone::test::lin {

enum class OpKind { write, read, cas, remove };

enum class Outcome {
  ok,                 // write: done; read: `result` holds what it saw; cas: swapped; remove: removed
  failed,             // cas only: the current value was not `expected`, nothing changed
  not_found,          // remove only: the key was absent, nothing changed
  unknown,            // timed out / connection lost: may or may not have happened
  failed_definitely,  // refused before doing anything (e.g. rejected locally): ignored
};

struct Operation {
  std::uint64_t client = 0;
  std::string key;
  OpKind kind = OpKind::read;
  std::optional<std::string> value;     // write: the value written; cas: the new value
  std::optional<std::string> expected;  // cas: the value required (nullopt: must be absent)
  std::optional<std::string> result;    // read with outcome ok: what it saw (nullopt: absent)
  std::int64_t call_time = 0;
  std::int64_t return_time = 0;  // ignored when outcome is unknown
  Outcome outcome = Outcome::unknown;

  // Inputs only; times, outcome and result are filled in by the caller or a HistoryRecorder.
  // (The default outcome, unknown, is what an operation never ended gets.)
  static Operation write(std::uint64_t client, std::string key, std::string value);
  static Operation read(std::uint64_t client, std::string key);
  static Operation cas(std::uint64_t client, std::string key, std::optional<std::string> expected,
                       std::string new_value);
  static Operation remove(std::uint64_t client, std::string key);
};

enum class Verdict { linearizable, not_linearizable, timed_out };

const char* to_string(Verdict verdict);
const char* to_string(OpKind kind);
const char* to_string(Outcome outcome);
std::ostream& operator<<(std::ostream& out, Verdict verdict);
std::ostream& operator<<(std::ostream& out, OpKind kind);
std::ostream& operator<<(std::ostream& out, Outcome outcome);

struct KeyReport {
  std::string key;
  Verdict verdict = Verdict::linearizable;
  std::size_t operations = 0;  // checked (after dropping failed_definitely and unknown reads)
  std::chrono::microseconds elapsed{0};
};

struct CheckResult {
  Verdict verdict = Verdict::linearizable;
  // Human readable. For not_linearizable: per failing key, the operation whose return makes
  // the smallest failing prefix of that key's history, and the operations that show why it
  // cannot be linearized. For timed_out: which keys, how big, how concurrent.
  std::string explanation;
  // The first key (in sorted order) that is not linearizable, else the first that timed out.
  std::string key;
  // not_linearizable, for `key`: index into the history of the operation whose return makes
  // the key's smallest failing prefix, and indices of the operations shown as the reason.
  std::optional<std::size_t> culprit;
  std::vector<std::size_t> failing_ops;
  std::vector<KeyReport> keys;  // every key, sorted
  std::chrono::microseconds elapsed{0};

  bool linearizable() const { return verdict == Verdict::linearizable; }
};

// Checks `history` (in any order). `budget` is the search time allowed per key; for a key
// that is not linearizable, narrowing the failure down for the report may take up to one
// more `budget` (if it runs out, the report shows the key's whole history instead).
// Throws std::invalid_argument for a malformed operation: an outcome its kind cannot have
// (write failed, read not_found, cas not_found, remove failed, ...), a write or cas without a
// value, or a known outcome whose return time is before its call time.
CheckResult check_linearizable(const std::vector<Operation>& history,
                               std::chrono::milliseconds budget = std::chrono::milliseconds(2000));

// One line for an operation, e.g. `c3 write("k", "v") -> ok  [+1.200us .. +5.000us]`, times
// relative to `origin`.
std::string describe(const Operation& op, std::int64_t origin = 0);

// The whole history as text for a failure report: a summary line, then one line per operation
// in call order, numbered by index in `history`, times in microseconds since the first call.
void write_history(std::ostream& out, const std::vector<Operation>& history);
std::string format_history(const std::vector<Operation>& history);
// Writes format_history() to a file (overwriting it); throws std::runtime_error on failure.
void save_history(const std::string& path, const std::vector<Operation>& history);

// Records a history from many threads. begin() stamps the call time and returns a token; call
// it just before sending the request. end() stamps the return time and the outcome (and, for
// a read that succeeded, what it saw); call it as soon as the answer is in. Times are
// steady_clock nanoseconds, taken under the lock, so they never go backwards across threads.
// Operations begun but never ended (a client that gave up) come out with outcome unknown.
// end() throws std::logic_error for a token not begun or ended twice.
class HistoryRecorder {
 public:
  using Token = std::size_t;

  Token begin(Operation op);
  void end(Token token, Outcome outcome, std::optional<std::string> result = std::nullopt);
  // For a read that succeeded: end(token, Outcome::ok, result).
  void end_read(Token token, std::optional<std::string> result) { end(token, Outcome::ok, std::move(result)); }

  std::vector<Operation> history() const;  // a copy, in begin() order
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::vector<Operation> ops_;
  std::vector<bool> ended_;
};

}  // namespace fourinone::test::lin
