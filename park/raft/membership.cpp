// Membership (thesis §4): who votes, who is replicated to, and how it changes.
//
// Rules enforced here:
// - a server uses the latest membership entry in its log, committed or not (§4.1), so a
//   truncated suffix takes its membership entries with it (track_memberships);
// - one server's part changes per entry (absent / learner / voter): the majorities of the
//   membership before and after overlap, so no term can get two leaders across a change;
// - a leader proposes a change only after the previous one committed and after it committed an
//   entry of its own term (the errata to the thesis: a leader elected under an older
//   membership could otherwise commit two overlapping changes);
// - a learner counts for nothing until it has caught up; then the leader promotes it;
// - a leader that removed itself steps down once the removal commits, handing leadership to a
//   caught-up voter first (thesis §4.2.2).
#include <algorithm>
#include <cstring>

#include "park/raft/quorum.hpp"
#include "park/raft/raft_impl.hpp"

namespace fourinone::raft {

namespace {

constexpr std::uint8_t kMembershipVersion = 1;

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

bool get_u64(std::string_view& in, std::uint64_t& v) {
  if (in.size() < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  in.remove_prefix(8);
  return true;
}

void put_ids(std::string& out, const std::vector<NodeId>& ids) {
  put_u64(out, ids.size());
  for (NodeId id : ids) put_u64(out, id);
}

bool get_ids(std::string_view& in, std::vector<NodeId>& ids) {
  std::uint64_t n = 0;
  if (!get_u64(in, n) || n > in.size() / 8) return false;  // a count larger than the bytes left
  ids.resize(n);
  for (auto& id : ids) get_u64(in, id);
  return true;
}

bool sorted_distinct_nonzero(const std::vector<NodeId>& ids) {
  if (!ids.empty() && ids.front() == 0) return false;
  return std::adjacent_find(ids.begin(), ids.end(), std::greater_equal<>()) == ids.end();
}


// 0 absent, 1 learner, 2 voter.
int part_of(const Membership& m, NodeId server) { return m.is_voter(server) ? 2 : m.is_learner(server) ? 1 : 0; }

}  // namespace

bool Membership::well_formed() const {
  if (!sorted_distinct_nonzero(voters) || !sorted_distinct_nonzero(learners)) return false;
  return std::none_of(learners.begin(), learners.end(), [&](NodeId l) { return is_voter(l); });
}

bool Membership::is_voter(NodeId server) const { return std::binary_search(voters.begin(), voters.end(), server); }

bool Membership::is_learner(NodeId server) const {
  return std::binary_search(learners.begin(), learners.end(), server);
}

std::string encode_membership(const Membership& m) {
  std::string out;
  out.reserve(2 + 8 * (3 + m.voters.size() + m.learners.size()) + m.context.size());
  out.push_back(kMembershipMarker);
  out.push_back(static_cast<char>(kMembershipVersion));
  put_ids(out, m.voters);
  put_ids(out, m.learners);
  put_u64(out, m.context.size());
  out.append(m.context);
  return out;
}

bool is_membership_data(std::string_view data) noexcept { return !data.empty() && data.front() == kMembershipMarker; }

std::optional<Membership> decode_membership(std::string_view in) {
  if (in.size() < 2 || in[0] != kMembershipMarker || static_cast<std::uint8_t>(in[1]) != kMembershipVersion) {
    return std::nullopt;
  }
  in.remove_prefix(2);
  Membership m;
  std::uint64_t context_size = 0;
  if (!get_ids(in, m.voters) || !get_ids(in, m.learners) || !get_u64(in, context_size)) return std::nullopt;
  if (context_size != in.size()) return std::nullopt;
  m.context.assign(in);
  if (!m.well_formed()) return std::nullopt;
  return m;
}

// --- Raft::Impl ---

std::uint64_t Raft::Impl::voters_quorum_value(std::uint64_t own, std::uint64_t Progress::*field) const {
  std::vector<std::uint64_t> values;
  values.reserve(voters.size());
  for (NodeId v : voters) {
    if (v == id) {
      values.push_back(own);
    } else {
      auto it = progress.find(v);
      values.push_back(it == progress.end() ? 0 : it->second.*field);
    }
  }
  return quorum_value(std::move(values));
}

void Raft::Impl::track_memberships(const std::vector<Entry>& written) {
  if (!written.empty()) {
    // Everything in the written range was (re)written from `written`: its membership entries
    // replace the ones we had there.
    log_confs.erase(log_confs.lower_bound(written.front().index), log_confs.upper_bound(written.back().index));
    for (const Entry& e : written) {
      if (e.type != EntryType::membership) continue;
      auto m = decode_membership(e.data);
      // A leader never sends a malformed one (well_formed_append checked the framing; this is
      // the content): a server cannot run with a membership it cannot read.
      if (!m) fatal("membership entry " + std::to_string(e.index) + " is malformed");
      log_confs[e.index] = std::move(*m);
    }
  }
  // A truncation without a replacement that long: entries past the end are gone.
  log_confs.erase(log_confs.upper_bound(log.last_index()), log_confs.end());
  refresh_membership();
}

void Raft::Impl::set_base_membership(std::optional<Membership> from_snapshot, std::uint64_t index) {
  base_is_bootstrap = !from_snapshot;
  if (from_snapshot) {
    base_conf = std::move(*from_snapshot);
  } else {
    // A snapshot from before memberships lived in the log: the bootstrap servers.
    base_conf = Membership{};
    base_conf.voters = cfg.servers;
    std::sort(base_conf.voters.begin(), base_conf.voters.end());
  }
  base_conf_index = index;
  log_confs.erase(log_confs.begin(), log_confs.upper_bound(index));
  // A snapshot from the leader that our log does not match replaces the whole log
  // (handle_snapshot): the membership entries of the suffix it discarded are gone with it.
  // Kept, they would leave us using a membership no log holds any more (found by the
  // simulator, seed 200279 of the 3-of-6 runs).
  log_confs.erase(log_confs.upper_bound(log.last_index()), log_confs.end());
  refresh_membership();
}

const Membership& Raft::Impl::membership_at(std::uint64_t index) const {
  auto it = log_confs.upper_bound(index);
  if (it == log_confs.begin()) return base_conf;
  return std::prev(it)->second;
}

std::optional<Membership> Raft::Impl::snapshot_membership_at(std::uint64_t index) const {
  auto it = log_confs.upper_bound(index);
  if (it != log_confs.begin()) return std::prev(it)->second;
  // Before any membership entry the group ran on its founders' Config::servers, which a server
  // that joined later does not have (its own list is empty): say "the bootstrap one" and let
  // each receiver read it with its own list, rather than hand a founder our empty one (found by
  // the simulator, seed 2001613 of the 5-of-8 runs: a joiner turned leader sent it).
  if (base_is_bootstrap) return std::nullopt;
  return base_conf;
}

void Raft::Impl::refresh_membership() {
  const bool from_log = !log_confs.empty();
  const Membership& now = from_log ? log_confs.rbegin()->second : base_conf;
  const std::uint64_t now_index = from_log ? log_confs.rbegin()->first : base_conf_index;
  if (now_index == conf_index && now == conf) return;
  conf = now;
  conf_index = now_index;
  voters = conf.voters;
  peers.clear();
  for (NodeId v : conf.voters) {
    if (v != id) peers.push_back(v);
  }
  for (NodeId l : conf.learners) {
    if (l != id) peers.push_back(l);
  }
  std::sort(peers.begin(), peers.end());
  if (role != Role::leader) return;
  // The leader replicates to whoever the membership names from the moment it is in the log.
  for (auto it = progress.begin(); it != progress.end();) {
    it = std::binary_search(peers.begin(), peers.end(), it->first) ? std::next(it) : progress.erase(it);
  }
  for (NodeId p : peers) {
    if (progress.count(p)) continue;
    Progress pr(cfg.max_inflight);
    pr.next = log.last_index() + 1;
    // Counted as heard from: a server added a moment ago must not make check-quorum step down.
    pr.recent_active = true;
    progress.emplace(p, std::move(pr));
  }
  if (transferee != 0 && !is_voter(transferee)) abort_transfer();
}

ProposeResult Raft::Impl::propose_membership(Membership next) {
  ProposeResult r;
  r.leader_hint = lead;
  if (auto why = proposal_refused()) {
    r.error = *why;
    return r;
  }
  if (conf_index > log.committed() || !committed_in_term()) {
    r.error = ProposeError::change_pending;
    return r;
  }
  int changed = 0;
  std::vector<NodeId> everyone = conf.voters;
  everyone.insert(everyone.end(), conf.learners.begin(), conf.learners.end());
  everyone.insert(everyone.end(), next.voters.begin(), next.voters.end());
  everyone.insert(everyone.end(), next.learners.begin(), next.learners.end());
  std::sort(everyone.begin(), everyone.end());
  everyone.erase(std::unique(everyone.begin(), everyone.end()), everyone.end());
  for (NodeId s : everyone) {
    if (part_of(conf, s) != part_of(next, s)) ++changed;
  }
  if (!next.well_formed() || next.voters.empty() || changed > 1 || (changed == 0 && next.context == conf.context)) {
    r.error = ProposeError::bad_change;
    return r;
  }
  Entry e;
  e.index = log.last_index() + 1;
  e.term = term;
  e.type = EntryType::membership;
  e.data = encode_membership(next);
  r.index = e.index;
  r.term = term;
  uncommitted_bytes += e.data.size();
  std::vector<Entry> entries;
  entries.push_back(std::move(e));
  log.append(entries);
  track_memberships(entries);  // in effect from now on, here and wherever it is appended
  bcast_append();
  // A group that shrank to us alone commits at once.
  if (maybe_commit()) bcast_append();
  return r;
}

void Raft::Impl::maybe_promote_learner() {
  if (!cfg.auto_promote || conf.learners.empty() || conf_index > log.committed() || !committed_in_term() ||
      transferee != 0) {
    return;
  }
  for (NodeId l : conf.learners) {
    auto it = progress.find(l);
    if (it == progress.end() || !it->second.recent_active || it->second.match < log.committed()) continue;
    Membership next = conf;
    next.learners.erase(std::find(next.learners.begin(), next.learners.end(), l));
    next.voters.insert(std::upper_bound(next.voters.begin(), next.voters.end(), l), l);
    propose_membership(std::move(next));
    return;  // one change at a time
  }
}

void Raft::Impl::step_down_if_removed() {
  // Once our removal is applied (not merely committed: the driver answers the change when it
  // applies it, and a step-down first would fail that answer), the remaining voters carry on
  // without us. Hand leadership to one that has our whole log, so the group does not wait out
  // an election timeout.
  if (role != Role::leader || is_voter(id) || conf_index > applied) return;
  for (NodeId v : voters) {
    auto it = progress.find(v);
    if (it != progress.end() && it->second.match == log.last_index()) {
      send_timeout_now(v);
      break;
    }
  }
  become_follower(term, 0);
}

}  // namespace fourinone::raft
