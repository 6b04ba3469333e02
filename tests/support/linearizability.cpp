#include "tests/support/linearizability.hpp"

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

namespace fourinone::test::lin {

// ----------------------------------------------------------------------------------------------
// Operations and names

Operation Operation::write(std::uint64_t client, std::string key, std::string value) {
  Operation op;
  op.client = client;
  op.key = std::move(key);
  op.kind = OpKind::write;
  op.value = std::move(value);
  return op;
}

Operation Operation::read(std::uint64_t client, std::string key) {
  Operation op;
  op.client = client;
  op.key = std::move(key);
  op.kind = OpKind::read;
  return op;
}

Operation Operation::cas(std::uint64_t client, std::string key, std::optional<std::string> expected,
                         std::string new_value) {
  Operation op;
  op.client = client;
  op.key = std::move(key);
  op.kind = OpKind::cas;
  op.expected = std::move(expected);
  op.value = std::move(new_value);
  return op;
}

Operation Operation::remove(std::uint64_t client, std::string key) {
  Operation op;
  op.client = client;
  op.key = std::move(key);
  op.kind = OpKind::remove;
  return op;
}

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::linearizable: return "linearizable";
    case Verdict::not_linearizable: return "not_linearizable";
    case Verdict::timed_out: return "timed_out";
  }
  return "?";
}

const char* to_string(OpKind kind) {
  switch (kind) {
    case OpKind::write: return "write";
    case OpKind::read: return "read";
    case OpKind::cas: return "cas";
    case OpKind::remove: return "remove";
  }
  return "?";
}

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::ok: return "ok";
    case Outcome::failed: return "failed";
    case Outcome::not_found: return "not_found";
    case Outcome::unknown: return "unknown";
    case Outcome::failed_definitely: return "failed_definitely";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& out, Verdict verdict) { return out << to_string(verdict); }
std::ostream& operator<<(std::ostream& out, OpKind kind) { return out << to_string(kind); }
std::ostream& operator<<(std::ostream& out, Outcome outcome) { return out << to_string(outcome); }

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

// ----------------------------------------------------------------------------------------------
// Text

std::string quote(const std::optional<std::string>& value) {
  if (!value) return "absent";
  constexpr std::size_t kShown = 48;
  static const char* const kHex = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < value->size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>((*value)[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (value->size() > kShown) out += "...(" + std::to_string(value->size()) + " bytes)";
  return out;
}

// Nanoseconds as "+12.345us".
std::string micros(std::int64_t ns) {
  std::string sign = ns < 0 ? "-" : "+";
  const std::uint64_t abs = ns < 0 ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
  std::string frac = std::to_string(abs % 1000);
  frac.insert(0, 3 - frac.size(), '0');
  return sign + std::to_string(abs / 1000) + "." + frac + "us";
}

// ----------------------------------------------------------------------------------------------
// One key's register: values interned (0 = absent), operations in a compact form.

using Value = std::int32_t;
constexpr Value kAbsent = 0;
constexpr Value kUncompared = 1;  // any value that no operation compares with

struct KeyOp {
  OpKind kind = OpKind::read;
  Outcome outcome = Outcome::ok;  // ok, failed, not_found or unknown
  Value value = kAbsent;          // write, cas: the new value
  Value expected = kAbsent;       // cas
  Value result = kAbsent;         // read ok
  std::int64_t call = 0;
  std::int64_t ret = 0;
  std::size_t index = 0;  // in the caller's history

  bool unknown() const { return outcome == Outcome::unknown; }
  std::int64_t effective_return() const { return unknown() ? kNever : ret; }
  // A known outcome that left the value as it was: it only observed.
  bool observer() const {
    return (kind == OpKind::read && outcome == Outcome::ok) || (kind == OpKind::cas && outcome == Outcome::failed) ||
           (kind == OpKind::remove && outcome == Outcome::not_found);
  }
};

// The register's step: the value after `op` if `op` may run on `state` with the outcome it had.
// An unknown outcome never rules a step out; it does what the operation would have done.
std::optional<Value> step(Value state, const KeyOp& op) {
  switch (op.kind) {
    case OpKind::write:
      return op.value;
    case OpKind::read:
      if (op.unknown() || state == op.result) return state;
      return std::nullopt;
    case OpKind::cas:
      if (op.unknown()) return state == op.expected ? op.value : state;
      if (op.outcome == Outcome::ok) {
        if (state == op.expected) return op.value;
        return std::nullopt;
      }
      if (state != op.expected) return state;
      return std::nullopt;
    case OpKind::remove:
      if (op.unknown()) return kAbsent;
      if (op.outcome == Outcome::ok) {
        if (state != kAbsent) return kAbsent;
        return std::nullopt;
      }
      if (state == kAbsent) return state;
      return std::nullopt;
  }
  return std::nullopt;
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Configurations already explored: (set of operations linearized, register value, a tag), in
// an open-addressing hash table. The set's hash is kept up to date incrementally by the
// caller (xor of one random word per operation).
class Memo {
 public:
  explicit Memo(std::size_t words) : words_(words), slots_(1024, 0) {}

  // Adds the configuration; false if it was seen before.
  bool insert(const std::vector<std::uint64_t>& bits, std::uint64_t bits_hash, std::uint64_t tag) {
    const std::uint64_t h = bits_hash ^ mix(tag);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t at = static_cast<std::size_t>(h) & mask;; at = (at + 1) & mask) {
      const std::uint32_t slot = slots_[at];
      if (slot == 0) break;
      const std::size_t e = slot - 1;
      if (hashes_[e] == h && tags_[e] == tag &&
          std::equal(bits.begin(), bits.end(), arena_.begin() + static_cast<std::ptrdiff_t>(e * words_))) {
        return false;
      }
    }
    hashes_.push_back(h);
    tags_.push_back(tag);
    arena_.insert(arena_.end(), bits.begin(), bits.end());
    if (hashes_.size() * 2 > slots_.size()) {
      slots_.assign(slots_.size() * 2, 0);
      mask = slots_.size() - 1;
      for (std::size_t e = 0; e < hashes_.size(); ++e) place(e, mask);
    } else {
      place(hashes_.size() - 1, mask);
    }
    return true;
  }

  std::size_t bytes() const {
    return slots_.size() * sizeof(std::uint32_t) + hashes_.size() * (2 + words_) * sizeof(std::uint64_t);
  }

 private:
  void place(std::size_t e, std::size_t mask) {
    std::size_t at = static_cast<std::size_t>(hashes_[e]) & mask;
    while (slots_[at] != 0) at = (at + 1) & mask;
    slots_[at] = static_cast<std::uint32_t>(e + 1);
  }

  std::size_t words_;
  std::vector<std::uint32_t> slots_;  // entry + 1; 0 = empty
  std::vector<std::uint64_t> hashes_;
  std::vector<std::uint64_t> tags_;
  std::vector<std::uint64_t> arena_;  // words_ per entry
};

// Sets the value whatever it was, and never fails.
bool blind(const KeyOp& op) { return op.kind == OpKind::write || (op.kind == OpKind::remove && op.unknown()); }

struct Event {
  std::int64_t time;
  bool is_return;
  std::size_t op;
};

// Calls and returns in time order; at equal times calls come first, so an operation returning
// at the instant another is called counts as concurrent with it.
std::vector<Event> events_of(const std::vector<KeyOp>& ops) {
  std::vector<Event> events;
  events.reserve(ops.size() * 2);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    events.push_back({ops[i].call, false, i});
    events.push_back({ops[i].effective_return(), true, i});
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return std::tie(a.time, a.is_return, a.op) < std::tie(b.time, b.is_return, b.op);
  });
  return events;
}

enum class SearchVerdict { linearizable, not_linearizable, timed_out };

// A search also gives up (as timed_out) when its memo outgrows this.
constexpr std::size_t kMemoBytes = std::size_t{512} << 20;

struct Search {
  SearchVerdict verdict = SearchVerdict::linearizable;
  bool too_big = false;  // timed_out: the memo hit kMemoBytes before the budget ran out
  // Not linearizable: the latest event position some explored order got to, all returns
  // before it linearized. The history cut just before it is linearizable.
  std::size_t furthest = 0;
};

// Wing & Gong's search with Lowe's memoization over one key's operations.
//
// The events sit in a doubly linked list, in time order. At a configuration, walking the list
// from the front, every call met before the first return is a candidate to take effect next.
// Linearizing one unlinks its call and return and opens the next level of the search; a level
// whose candidates are all exhausted is undone, and its parent tries its next candidate.
// Success is every known outcome linearized: unknown ones left over go at the end (or never
// happened), where nothing can contradict them. Each configuration (operations linearized,
// value, and the bit below) is explored once.
//
// Choices that can never do better than another one are not tried (each rule rewrites any
// linearization into one the search does try, so the search stays complete):
//  - an observation (read, failed cas, remove not_found) that fits the current value is placed
//    at once and nothing else is tried there: moving it to the front of any order that works
//    keeps that order working;
//  - known outcomes are tried before unknown ones, so an unknown operation is placed only
//    when something needs it (an ordering choice only, for speed);
//  - an unknown operation that leaves the value as it was is not placed: left pending it can
//    still go anywhere later, or nowhere;
//  - nor an unknown operation right before a blind one (a write, an unknown remove): placing
//    only the blind one does the same and keeps the unknown one available. As this depends on
//    whether the last operation placed was unknown, that bit is part of the configuration;
//  - of unknown operations doing the same thing (same kind and values), only the earliest
//    called one not yet placed is a candidate: once called they are interchangeable.
Search search(const std::vector<KeyOp>& ops, Clock::time_point deadline) {
  const std::size_t n = ops.size();
  std::size_t known_left = 0;
  for (const KeyOp& op : ops) known_left += op.unknown() ? 0 : 1;
  if (known_left == 0) return {};
  const std::vector<Event> events = events_of(ops);

  const std::size_t nodes = 2 * n;
  const std::size_t head = nodes;
  const std::size_t tail = nodes + 1;
  std::vector<std::size_t> prev(nodes + 2), next(nodes + 2);
  std::vector<std::size_t> call_node(n), return_node(n);
  for (std::size_t i = 0; i < nodes; ++i) {
    prev[i] = i == 0 ? head : i - 1;
    next[i] = i + 1 == nodes ? tail : i + 1;
    (events[i].is_return ? return_node : call_node)[events[i].op] = i;
  }
  next[head] = 0;
  prev[tail] = nodes - 1;
  prev[head] = next[tail] = head;  // unused
  auto unlink = [&](std::size_t x) {
    next[prev[x]] = next[x];
    prev[next[x]] = prev[x];
  };
  auto relink = [&](std::size_t x) {  // in the reverse order of unlinking
    next[prev[x]] = x;
    prev[next[x]] = x;
  };

  std::vector<std::size_t> twin_before(n, n);
  {
    std::map<std::tuple<OpKind, Value, Value>, std::size_t> latest;
    for (const Event& e : events) {
      const KeyOp& o = ops[e.op];
      if (e.is_return || !o.unknown()) continue;
      auto [it, fresh] = latest.try_emplace({o.kind, o.value, o.expected}, e.op);
      if (!fresh) {
        twin_before[e.op] = it->second;
        it->second = e.op;
      }
    }
  }

  std::vector<std::uint64_t> zobrist(n);
  for (std::size_t i = 0; i < n; ++i) zobrist[i] = mix(i * 2 + 2);
  std::vector<std::uint64_t> bits((n + 63) / 64, 0);
  std::uint64_t bits_hash = 0;
  auto flip = [&](std::size_t op) {
    bits[op / 64] ^= std::uint64_t{1} << (op % 64);
    bits_hash ^= zobrist[op];
  };
  auto placed = [&](std::size_t op) { return ((bits[op / 64] >> (op % 64)) & 1U) != 0; };
  Memo memo(bits.size());

  Search out;
  Value state = kAbsent;
  bool after_unknown = false;  // the last operation placed had an unknown outcome

  // The candidates of every open level, one after another: observations, then other known
  // outcomes, then unknown ones.
  std::vector<std::size_t> candidates;
  std::vector<std::size_t> later_known, later_unknown;
  struct Level {
    std::size_t begin;  // its candidates: candidates[begin, end of vector or next level)
    std::size_t next;   // the next one to try
    // Undoing the operation placed to reach this level (none at the root).
    std::size_t op;
    Value before;
    bool after_unknown_before;
  };
  std::vector<Level> levels;
  levels.reserve(n + 1);

  auto open_level = [&](std::size_t op, Value before, bool after_unknown_before) {
    const std::size_t begin = candidates.size();
    later_known.clear();
    later_unknown.clear();
    std::size_t node = next[head];
    for (; node != tail && !events[node].is_return; node = next[node]) {
      const std::size_t c = events[node].op;
      const KeyOp& o = ops[c];
      if (after_unknown && blind(o)) continue;
      if (!o.unknown()) {
        (o.observer() ? candidates : later_known).push_back(c);
      } else if (twin_before[c] == n || placed(twin_before[c])) {
        later_unknown.push_back(c);
      }
    }
    if (node != tail) out.furthest = std::max(out.furthest, node);
    candidates.insert(candidates.end(), later_known.begin(), later_known.end());
    candidates.insert(candidates.end(), later_unknown.begin(), later_unknown.end());
    levels.push_back({begin, begin, op, before, after_unknown_before});
  };
  open_level(n, kAbsent, false);

  std::uint64_t steps = 0;
  while (known_left > 0) {
    if ((++steps & 0x3ff) == 0) {
      if (Clock::now() > deadline) return {SearchVerdict::timed_out, false, 0};
      if (memo.bytes() > kMemoBytes) return {SearchVerdict::timed_out, true, 0};
    }
    Level& level = levels.back();
    const std::size_t end = candidates.size();
    bool deeper = false;
    while (level.next < end) {
      const std::size_t op = candidates[level.next++];
      const KeyOp& o = ops[op];
      const auto after = step(state, o);
      if (!after || (o.unknown() && *after == state)) continue;
      // A fitting observation is the only choice tried here.
      if (o.observer()) level.next = end;
      flip(op);
      const std::uint64_t tag =
          (static_cast<std::uint64_t>(static_cast<std::uint32_t>(*after)) << 1) | (o.unknown() ? 1U : 0U);
      if (!memo.insert(bits, bits_hash, tag)) {
        flip(op);
        continue;
      }
      const Value before = state;
      const bool after_unknown_before = after_unknown;
      state = *after;
      after_unknown = o.unknown();
      if (!o.unknown()) --known_left;
      unlink(call_node[op]);
      unlink(return_node[op]);
      open_level(op, before, after_unknown_before);
      deeper = true;
      break;
    }
    if (deeper) continue;
    // Every candidate here failed: undo the operation that led here.
    if (levels.size() == 1) return {SearchVerdict::not_linearizable, false, out.furthest};
    const Level done = levels.back();
    levels.pop_back();
    candidates.resize(done.begin);
    state = done.before;
    after_unknown = done.after_unknown_before;
    if (!ops[done.op].unknown()) ++known_left;
    flip(done.op);
    relink(return_node[done.op]);
    relink(call_node[done.op]);
  }
  return out;
}

// The most operations pending at once (unknown outcomes stay pending to the end).
std::size_t max_pending(const std::vector<KeyOp>& ops) {
  std::size_t pending = 0;
  std::size_t most = 0;
  for (const Event& e : events_of(ops)) {
    if (e.is_return) {
      --pending;
    } else {
      most = std::max(most, ++pending);
    }
  }
  return most;
}

// ----------------------------------------------------------------------------------------------
// Narrowing a failure down
//
// Cut the key's event sequence after its first m events: operations called before the cut
// are kept, and those that had not returned by then become unknown (a read is dropped). If
// the whole history has a linearization, so does every cut (take the linearization, drop the
// operations called after the cut: only operations still pending at the cut can follow one
// of those, and an unknown outcome may go anywhere). So failing is monotone in m and a binary
// search finds the smallest failing cut. Its last event is the return of the operation whose
// answer could not be fitted in: the culprit.
//
// Then observations (reads, failed cas, remove not_found), which never change the value, are
// removed while the cut still fails; removing one can never turn a linearizable history into
// a non-linearizable one, so what is left is still a genuine contradiction. Changes (writes,
// successful cas and removes, unknown outcomes) all stay, since removing one could invent a
// contradiction, but the report shows only those that matter to the observations left: the
// changes that may have been the last one before the earliest of them, every change after
// that, and for each observation the latest change that set the value it saw.

struct Narrowed {
  bool complete = false;
  std::size_t culprit = 0;              // position in ops
  std::size_t prefix_ops = 0;           // operations called before the culprit returned
  std::vector<std::size_t> shown;       // positions in ops, in call order
  std::vector<bool> pending_at_cut;     // by position
};

Narrowed narrow(const std::vector<KeyOp>& ops, std::size_t furthest, Clock::time_point deadline) {
  const std::size_t n = ops.size();
  Narrowed out;
  out.pending_at_cut.assign(n, false);
  auto everything = [&] {
    out.complete = false;
    out.prefix_ops = n;
    out.shown.clear();
    for (std::size_t i = 0; i < n; ++i) out.shown.push_back(i);
    return out;
  };

  const std::vector<Event> events = events_of(ops);
  std::vector<std::size_t> call_pos(n), return_pos(n);
  for (std::size_t i = 0; i < events.size(); ++i) {
    (events[i].is_return ? return_pos : call_pos)[events[i].op] = i;
  }
  std::vector<bool> dropped(n, false);
  auto cut = [&](std::size_t m) {
    std::vector<KeyOp> sub;
    for (std::size_t i = 0; i < n; ++i) {
      if (call_pos[i] >= m || dropped[i]) continue;
      KeyOp op = ops[i];
      if (return_pos[i] >= m) {
        if (op.kind == OpKind::read) continue;
        op.outcome = Outcome::unknown;
      }
      sub.push_back(op);
    }
    return sub;
  };

  // The cut just before the furthest point the full search reached is linearizable, so the
  // search starts after it; usually the first cut tried is the answer.
  std::size_t lo = std::min(furthest + 1, events.size());
  std::size_t hi = events.size();  // the whole history fails
  while (lo < hi) {
    const std::size_t mid = lo == furthest + 1 ? lo : lo + (hi - lo) / 2;
    const SearchVerdict r = search(cut(mid), deadline).verdict;
    if (r == SearchVerdict::timed_out) return everything();
    if (r == SearchVerdict::not_linearizable) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  const std::size_t m = hi;
  if (!events[m - 1].is_return) return everything();  // cannot happen: see above
  const std::size_t culprit = events[m - 1].op;
  out.culprit = culprit;
  for (std::size_t i = 0; i < n; ++i) {
    if (call_pos[i] < m) ++out.prefix_ops;
    out.pending_at_cut[i] = call_pos[i] < m && return_pos[i] >= m;
  }

  // Drop observations that are not needed for the contradiction.
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < n; ++i) {
    if (i != culprit && return_pos[i] < m && ops[i].observer()) candidates.push_back(i);
  }
  bool out_of_time = false;
  auto try_drop = [&](const std::vector<std::size_t>& which) {
    if (out_of_time || which.empty()) return;
    for (std::size_t i : which) dropped[i] = true;
    const SearchVerdict r = search(cut(m), deadline).verdict;
    if (r == SearchVerdict::not_linearizable) return;
    if (r == SearchVerdict::timed_out) out_of_time = true;
    for (std::size_t i : which) dropped[i] = false;
  };
  try_drop(candidates);
  std::vector<std::size_t> earlier;  // returned before the culprit was called
  for (std::size_t i : candidates) {
    if (!dropped[i] && ops[i].ret < ops[culprit].call) earlier.push_back(i);
  }
  try_drop(earlier);
  for (auto it = candidates.rbegin(); it != candidates.rend(); ++it) {
    if (!dropped[*it]) try_drop({*it});
  }

  // What to show: the culprit, the observations kept, and the writes that may have been the
  // last to set the value before the earliest of those began (or came after that).
  std::int64_t first_seen = ops[culprit].call;
  for (std::size_t i : candidates) {
    if (!dropped[i]) first_seen = std::min(first_seen, ops[i].call);
  }
  auto changes = [&](std::size_t i) {  // in the cut, may change the value
    return call_pos[i] < m && !dropped[i] && (out.pending_at_cut[i] ? ops[i].kind != OpKind::read : !ops[i].observer());
  };
  auto cut_return = [&](std::size_t i) { return out.pending_at_cut[i] ? kNever : ops[i].effective_return(); };
  std::int64_t last_settled_call = std::numeric_limits<std::int64_t>::min();
  for (std::size_t i = 0; i < n; ++i) {
    if (changes(i) && cut_return(i) < first_seen) last_settled_call = std::max(last_settled_call, ops[i].call);
  }
  std::vector<bool> show(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    const bool observation = i == culprit || (call_pos[i] < m && return_pos[i] < m && ops[i].observer() && !dropped[i]);
    if (!observation) {
      show[i] = changes(i) && cut_return(i) >= last_settled_call;
      continue;
    }
    show[i] = true;
    // And where the value it saw came from: the latest change to it called before it returned.
    std::optional<Value> saw;
    if (ops[i].kind == OpKind::read) saw = ops[i].result;
    if (ops[i].kind == OpKind::cas && ops[i].outcome == Outcome::ok) saw = ops[i].expected;
    if (!saw) continue;
    std::optional<std::size_t> source;
    for (std::size_t j = 0; j < n; ++j) {
      if (j == i || !changes(j) || ops[j].call > ops[i].ret) continue;
      const bool sets = *saw == kAbsent ? ops[j].kind == OpKind::remove
                                        : ops[j].kind != OpKind::remove && ops[j].value == *saw;
      if (sets && (!source || ops[*source].call <= ops[j].call)) source = j;
    }
    if (source) show[*source] = true;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (show[i]) out.shown.push_back(i);
  }
  std::sort(out.shown.begin(), out.shown.end(), [&](std::size_t a, std::size_t b) {
    return std::tie(ops[a].call, ops[a].index) < std::tie(ops[b].call, ops[b].index);
  });
  out.complete = true;
  return out;
}

std::string quote_key(const std::string& key) { return quote(std::optional<std::string>(key)); }

void validate(const Operation& op, std::size_t index) {
  if (op.outcome == Outcome::failed_definitely) return;
  auto bad = [&](const std::string& why) {
    throw std::invalid_argument("check_linearizable: operation #" + std::to_string(index) + " (" + describe(op) +
                                "): " + why);
  };
  const Outcome o = op.outcome;
  const bool known = o != Outcome::unknown;
  switch (op.kind) {
    case OpKind::write:
      if (known && o != Outcome::ok) bad("a write is ok or unknown");
      if (!op.value) bad("a write needs a value");
      break;
    case OpKind::read:
      if (known && o != Outcome::ok) bad("a read is ok (with its result) or unknown");
      break;
    case OpKind::cas:
      if (known && o != Outcome::ok && o != Outcome::failed) bad("a cas is ok, failed or unknown");
      if (!op.value) bad("a cas needs a new value");
      break;
    case OpKind::remove:
      if (known && o != Outcome::ok && o != Outcome::not_found) bad("a remove is ok, not_found or unknown");
      break;
  }
  if (known && op.return_time < op.call_time) bad("returned before it was called");
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// Checking

CheckResult check_linearizable(const std::vector<Operation>& history, std::chrono::milliseconds budget) {
  const auto started = Clock::now();
  CheckResult result;

  std::int64_t origin = history.empty() ? 0 : history.front().call_time;
  for (std::size_t i = 0; i < history.size(); ++i) {
    validate(history[i], i);
    origin = std::min(origin, history[i].call_time);
  }

  std::map<std::string, std::vector<std::size_t>> by_key;
  std::size_t refused = 0;
  std::size_t unknown_reads = 0;
  for (std::size_t i = 0; i < history.size(); ++i) {
    const Operation& op = history[i];
    if (op.outcome == Outcome::failed_definitely) {
      ++refused;
    } else if (op.kind == OpKind::read && op.outcome == Outcome::unknown) {
      ++unknown_reads;
    } else {
      by_key[op.key].push_back(i);
    }
  }

  std::ostringstream failures;  // details of keys not linearizable
  std::ostringstream timeouts;  // details of keys that timed out
  std::size_t failing_keys = 0;
  std::size_t timed_out_keys = 0;
  std::size_t checked = 0;
  for (const auto& [key, indices] : by_key) {
    // Values no read reports and no cas expects behave alike (present, equal to nothing
    // compared), so they share one id: fewer distinct states to remember.
    std::unordered_map<std::string, Value> ids;
    for (std::size_t i : indices) {
      const Operation& op = history[i];
      const std::optional<std::string>* compared = op.kind == OpKind::cas                                 ? &op.expected
                                                   : op.kind == OpKind::read && op.outcome == Outcome::ok ? &op.result
                                                                                                          : nullptr;
      if (compared && *compared) ids.emplace(**compared, static_cast<Value>(ids.size() + 2));
    }
    auto id = [&](const std::optional<std::string>& v) -> Value {
      if (!v) return kAbsent;
      const auto it = ids.find(*v);
      return it == ids.end() ? kUncompared : it->second;
    };
    std::vector<KeyOp> ops;
    ops.reserve(indices.size());
    for (std::size_t i : indices) {
      const Operation& op = history[i];
      KeyOp k;
      k.kind = op.kind;
      k.outcome = op.outcome;
      if (op.kind == OpKind::write || op.kind == OpKind::cas) k.value = id(op.value);
      if (op.kind == OpKind::cas) k.expected = id(op.expected);
      if (op.kind == OpKind::read) k.result = id(op.result);
      k.call = op.call_time;
      k.ret = op.return_time;
      k.index = i;
      ops.push_back(k);
    }
    std::sort(ops.begin(), ops.end(),
              [](const KeyOp& a, const KeyOp& b) { return std::tie(a.call, a.index) < std::tie(b.call, b.index); });
    checked += ops.size();

    const auto key_started = Clock::now();
    const Search searched = search(ops, key_started + budget);
    const SearchVerdict verdict = searched.verdict;
    KeyReport report;
    report.key = key;
    report.operations = ops.size();
    report.verdict = verdict == SearchVerdict::linearizable       ? Verdict::linearizable
                     : verdict == SearchVerdict::not_linearizable ? Verdict::not_linearizable
                                                             : Verdict::timed_out;
    report.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - key_started);

    if (verdict == SearchVerdict::timed_out) {
      std::size_t unknowns = 0;
      for (const KeyOp& op : ops) unknowns += op.unknown() ? 1 : 0;
      timeouts << "key " << quote_key(key) << ": no answer "
               << (searched.too_big
                       ? "before the search outgrew its memory cap of " + std::to_string(kMemoBytes >> 20) + " MiB"
                       : "within the budget of " + std::to_string(budget.count()) + " ms")
               << " (" << ops.size() << " operations, up to " << max_pending(ops) << " pending at once, " << unknowns
               << " with unknown outcome). Check fewer operations per key or fewer timeouts, or raise the budget.\n";
      if (timed_out_keys++ == 0 && failing_keys == 0) result.key = key;
    } else if (verdict == SearchVerdict::not_linearizable) {
      constexpr std::size_t kDetailedKeys = 3;
      constexpr std::size_t kMostLines = 200;
      if (failing_keys++ == 0) {
        result.key = key;
      }
      if (failing_keys > kDetailedKeys) {
        failures << "key " << quote_key(key) << ": NOT linearizable (" << ops.size()
                 << " operation(s); not narrowed down)\n";
      } else {
        const Narrowed why = narrow(ops, searched.furthest, Clock::now() + budget);
        failures << "key " << quote_key(key) << ": NOT linearizable (" << ops.size() << " operation(s) on this key).\n";
        if (why.complete) {
          const KeyOp& culprit = ops[why.culprit];
          failures << "  The smallest failing prefix is the " << why.prefix_ops
                   << " operation(s) called before this one returned:\n"
                   << "    #" << culprit.index << " " << describe(history[culprit.index], origin) << "\n"
                   << "  No order of those is consistent with a register. Why (" << why.shown.size()
                   << " operation(s): the observations the contradiction needs, where the values they saw came "
                      "from, and every change that may have been the last before them or came after; "
                   << why.prefix_ops - why.shown.size() << " more in the prefix not shown):\n";
        } else {
          failures << "  (could not narrow it down within the budget; the key's whole history follows)\n";
        }
        std::size_t lines = 0;
        for (std::size_t at : why.shown) {
          if (lines++ == kMostLines) {
            failures << "    ... " << why.shown.size() - kMostLines << " more\n";
            break;
          }
          const std::size_t index = ops[at].index;
          failures << "    #" << index << " " << describe(history[index], origin);
          if (why.complete && at == why.culprit) failures << "   <- cannot be placed";
          if (why.pending_at_cut[at] && !ops[at].unknown()) failures << "   (returned later: unknown at that point)";
          failures << "\n";
        }
        if (failing_keys == 1) {
          if (why.complete) result.culprit = ops[why.culprit].index;
          for (std::size_t at : why.shown) result.failing_ops.push_back(ops[at].index);
        }
      }
    }
    result.keys.push_back(std::move(report));
  }

  result.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
  std::ostringstream text;
  const std::string dropped_note = " (ignored: " + std::to_string(refused) + " failed definitely, " +
                                   std::to_string(unknown_reads) + " reads with unknown outcome)";
  if (failing_keys > 0) {
    result.verdict = Verdict::not_linearizable;
    text << "NOT linearizable: " << failing_keys << " of " << by_key.size() << " key(s) fail";
    if (timed_out_keys > 0) text << ", " << timed_out_keys << " more timed out";
    text << ". Times are microseconds since the first call.\n" << failures.str() << timeouts.str();
  } else if (timed_out_keys > 0) {
    result.verdict = Verdict::timed_out;
    text << "TIMED OUT, which is not a pass: " << timed_out_keys << " of " << by_key.size()
         << " key(s) could not be decided.\n"
         << timeouts.str();
  } else {
    result.verdict = Verdict::linearizable;
    text << "linearizable: " << checked << " operations on " << by_key.size() << " key(s)" << dropped_note
         << ", checked in " << result.elapsed.count() << " us\n";
  }
  result.explanation = text.str();
  return result;
}

// ----------------------------------------------------------------------------------------------
// Reports

std::string describe(const Operation& op, std::int64_t origin) {
  std::string out = "c" + std::to_string(op.client) + " " + to_string(op.kind) + "(" + quote_key(op.key);
  switch (op.kind) {
    case OpKind::write:
      out += ", " + quote(op.value);
      break;
    case OpKind::read:
    case OpKind::remove:
      break;
    case OpKind::cas:
      out += ", expect " + quote(op.expected) + ", set " + quote(op.value);
      break;
  }
  out += ") -> ";
  if (op.kind == OpKind::read && op.outcome == Outcome::ok) {
    out += quote(op.result);
  } else {
    out += to_string(op.outcome);
  }
  out += "  [" + micros(op.call_time - origin) + " .. ";
  out += op.outcome == Outcome::unknown ? std::string("?") : micros(op.return_time - origin);
  out += "]";
  return out;
}

void write_history(std::ostream& out, const std::vector<Operation>& history) {
  std::vector<std::size_t> order(history.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::tie(history[a].call_time, a) < std::tie(history[b].call_time, b);
  });
  const std::int64_t origin = order.empty() ? 0 : history[order.front()].call_time;
  std::map<std::string, int> keys;
  std::map<std::uint64_t, int> clients;
  for (const Operation& op : history) {
    ++keys[op.key];
    ++clients[op.client];
  }
  out << "# " << history.size() << " operation(s) on " << keys.size() << " key(s) from " << clients.size()
      << " client(s), in call order; times in microseconds since the first call (at " << origin << ")\n";
  const std::size_t width = std::to_string(history.empty() ? 0 : history.size() - 1).size();
  for (std::size_t i : order) {
    std::string number = std::to_string(i);
    number.insert(0, width - number.size(), ' ');
    out << "#" << number << " " << describe(history[i], origin) << "\n";
  }
}

std::string format_history(const std::vector<Operation>& history) {
  std::ostringstream out;
  write_history(out, history);
  return out.str();
}

void save_history(const std::string& path, const std::vector<Operation>& history) {
  std::ofstream file(path, std::ios::trunc);
  if (!file) throw std::runtime_error("save_history: cannot open " + path);
  write_history(file, history);
  file.flush();
  if (!file) throw std::runtime_error("save_history: cannot write " + path);
}

// ----------------------------------------------------------------------------------------------
// Recording

namespace {
std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}
}  // namespace

HistoryRecorder::Token HistoryRecorder::begin(Operation op) {
  std::lock_guard lock(mutex_);
  op.call_time = now_ns();
  op.return_time = 0;
  op.outcome = Outcome::unknown;
  op.result.reset();
  ops_.push_back(std::move(op));
  ended_.push_back(false);
  return ops_.size() - 1;
}

void HistoryRecorder::end(Token token, Outcome outcome, std::optional<std::string> result) {
  std::lock_guard lock(mutex_);
  if (token >= ops_.size()) throw std::logic_error("HistoryRecorder::end: no such token");
  if (ended_[token]) throw std::logic_error("HistoryRecorder::end: token ended twice");
  ended_[token] = true;
  Operation& op = ops_[token];
  op.return_time = now_ns();
  op.outcome = outcome;
  if (result) op.result = std::move(result);
}

std::vector<Operation> HistoryRecorder::history() const {
  std::lock_guard lock(mutex_);
  return ops_;
}

std::size_t HistoryRecorder::size() const {
  std::lock_guard lock(mutex_);
  return ops_.size();
}

}  // namespace fourinone::test::lin
