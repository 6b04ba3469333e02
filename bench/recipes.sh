#!/usr/bin/env bash
# The coordination recipes side by side (issue #15), on a three-server group of each system:
#
#   bash bench/recipes.sh [--rounds R] [--seconds S] [--systems "park zookeeper etcd"]
#
# peer_bench's workloads (d), (e), (f) and (h) through bench/peers.sh, written to the "recipes"
# section of bench/RESULTS.md:
#   (f) fair lock handoffs per second with 8 contending clients, and one handoff's latency
#       (park: the library's DistributedLock; ZooKeeper: the ephemeral-sequential recipe,
#       waiting on the predecessor; etcd: a lease + create-revision lock);
#   (e) takeover after kill -9 of a holder: the time until its ephemeral node is gone, which is
#       what a standby in a leader election waits for (2000 ms session timeout);
#   (h) election failover: kill -9 of the leader (a lock holder, 2000 ms session) -> the
#       standby waiting in line holds the lock, i.e. leads: (e) plus the recipe's own steps;
#   (d) change -> notification latency, what a registry or config watcher sees.
BENCH_COMMAND="bash bench/recipes.sh $*" exec bash "$(dirname "$0")/peers.sh" --workloads defh --section recipes \
  --title "Recipes: lock handoffs, election failover, notifications (park vs ZooKeeper vs etcd)" "$@"
