// ParkService::write_metrics: what a park server reports at /metrics (README: Metrics).
#include <cstdlib>
#include <filesystem>
#include <variant>

#include "core/metrics.hpp"
#include "core/version.hpp"
#include "fourinone/contractor.hpp"
#include "park/server/job_fields.hpp"
#include "park/server/park_service.hpp"

namespace fourinone::park {
namespace {

// Bytes of the regular files under `dir`: the log segments, the snapshots and LMDB's files.
double folder_bytes(const std::string& dir) {
  std::error_code ec;
  double total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const auto size = it->file_size(size_ec);
      if (!size_ec) total += static_cast<double>(size);
    }
  }
  return total;
}

// The label of each proto::Request alternative, in variant order.
constexpr const char* kRequestKinds[] = {"write",     "get",  "list",      "get_latest", "watch",   "unwatch", "heartbeat",
                                         "status",    "peer", "peer_chunk", "mq",        "mq_read", "member"};
static_assert(std::size(kRequestKinds) == std::variant_size_v<proto::Request>,
              "name every kind of request (park/protocol/messages.hpp)");

}  // namespace

void ParkService::write_metrics(core::MetricsWriter& out) const {
  core::write_process_metrics(out, "park", core::build_version(), core::build_commit());
  for (std::size_t i = 0; i < requests_by_kind_.size(); ++i) {
    out.counter("fourinone_park_requests_total", "Requests received, by kind.",
                requests_by_kind_[i], {{"kind", kRequestKinds[i]}});
  }
  for (std::size_t i = 0; i < answers_by_result_.size(); ++i) {
    out.counter("fourinone_park_responses_total",
                "Answers sent, by result (ok or the error code); get_latest answers are not counted.",
                answers_by_result_[i], {{"result", errc_name(static_cast<Errc>(i))}});
  }
  out.histogram("fourinone_park_request_duration_seconds",
                "Time from receiving a request to its answer: writes until committed and applied, linearizable "
                "reads until confirmed.",
                write_seconds_, {{"kind", "write"}});
  out.histogram("fourinone_park_request_duration_seconds", "", read_seconds_, {{"kind", "read"}});

  // Raft.
  const raft::Role role = log_.role();
  out.gauge("fourinone_raft_term", "The current Raft term.", static_cast<double>(log_.term()));
  for (auto r : {raft::Role::follower, raft::Role::candidate, raft::Role::leader}) {
    out.gauge("fourinone_raft_role", "1 for the role this server has now.", r == role ? 1 : 0,
              {{"role", raft::role_name(r)}});
  }
  out.gauge("fourinone_raft_is_leader", "1 while this server leads the group.", log_.is_leader() ? 1 : 0);
  out.gauge("fourinone_raft_commit_index", "Highest log index known committed.", static_cast<double>(log_.commit_index()));
  out.gauge("fourinone_raft_applied_index", "Highest log index applied to the store.",
            static_cast<double>(log_.applied_index()));
  out.gauge("fourinone_raft_last_log_index", "Highest index in this server's log.",
            static_cast<double>(log_.last_log_index()));
  out.gauge("fourinone_raft_snapshot_index", "Log index of the latest snapshot.", static_cast<double>(log_.snapshot_index()));
  double voters = 0;
  double learners = 0;
  for (const auto& m : log_.members()) (m.voter ? voters : learners) += 1;
  out.gauge("fourinone_raft_members", "Members of the group, by kind.", voters, {{"kind", "voter"}});
  out.gauge("fourinone_raft_members", "", learners, {{"kind", "learner"}});
  const auto& stats = log_.stats();
  out.counter("fourinone_raft_leader_changes_total", "Times this server saw the leader change (or become unknown).",
              stats.leader_changes);
  out.histogram("fourinone_park_log_write_duration_seconds", "One write of the log, fsync included.",
                stats.write_seconds);
  out.counter("fourinone_park_log_writes_total", "Writes of the log (each ends with an fsync).",
              stats.writes);
  out.counter("fourinone_park_log_written_entries_total", "Log entries written.",
              stats.written_entries);
  out.counter("fourinone_park_log_written_bytes_total", "Bytes of log entries written.",
              stats.written_bytes);
  out.histogram("fourinone_park_snapshot_save_duration_seconds", "Saving one snapshot.", stats.snapshot_seconds);
  out.counter("fourinone_park_snapshots_total", "Snapshots saved.", stats.snapshots);
  out.gauge("fourinone_park_snapshot_size_bytes", "Size of the latest snapshot saved.",
            static_cast<double>(stats.snapshot_bytes.load(std::memory_order_relaxed)));

  // The store.
  out.gauge("fourinone_park_revision", "Revision of the store (one per applied change).",
            static_cast<double>(store_.revision()));
  out.gauge("fourinone_park_domains", "Domains in the store.", static_cast<double>(store_.domain_count()));
  out.gauge("fourinone_park_nodes", "Nodes in the store.", static_cast<double>(store_.node_count()));
  out.gauge("fourinone_park_heartbeat_nodes", "Nodes owned by a session (deleted when it ends).",
            static_cast<double>(store_.heartbeat_node_count()));
  out.gauge("fourinone_park_ttl_nodes", "Nodes with a time to live.", static_cast<double>(store_.ttl_node_count()));
  out.gauge("fourinone_park_store_bytes", "Bytes the store accounts for (checked against MAXMEMORY).",
            static_cast<double>(store_.bytes()));
  out.gauge("fourinone_park_sessions", "Open client sessions.", static_cast<double>(store_.sessions().size()));
  out.gauge("fourinone_park_watches", "Watches of clients connected to this server.",
            static_cast<double>(hub_.watcher_count()));
  out.gauge("fourinone_park_data_dir_bytes", "Bytes of this server's data directory: log segments and snapshots.",
            folder_bytes(data_dir_));

  // Jobs of Contractor::run_job, from their progress nodes (as this server has applied them).
  const auto jobs = store_.list(kJobDomain);
  out.gauge("fourinone_jobs", "Jobs with a progress node (they stay a while after they end).",
            static_cast<double>(jobs.size()));
  for (const auto& job : jobs) {
    const auto fields = job_fields(job.value);
    for (const char* state : {"done", "total", "failed", "running"}) {
      auto it = fields.find(state);
      char* end = nullptr;
      const double value = it == fields.end() ? 0 : std::strtod(it->second.c_str(), &end);
      if (it == fields.end() || end == it->second.c_str() || *end != '\0') continue;  // absent or not a number
      out.gauge("fourinone_job_tasks", "Tasks of each job by state (done, total, failed, running now).", value,
                {{"job", job.name}, {"state", state}});
    }
  }

  // The wire.
  core::write_net_metrics(out, *net_stats_);
}

}  // namespace fourinone::park
