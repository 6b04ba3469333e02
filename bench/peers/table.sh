#!/usr/bin/env bash
# Reads peer_bench's "R <system> <row> <value>" lines on stdin and prints the markdown table of
# bench/RESULTS.md: a column per system, the ratios park/peer, and each issue target, met or not.
# A figure measured in several rounds shows the median of its rounds (the lower middle one
# for an even count).
#
#   table.sh [ROUNDS]     ROUNDS: only for the table's caption
awk -v rounds="${1:-1}" -v cores="$(nproc)" '
  $1 == "R" { k = ++count[$2, $3]; all[$2, $3, k] = $4; seen[$2] = 1; rows[$2, $3] = 1 }
  function median_of(s, r,   c, i, j, t, a) {
    c = count[s, r]
    for (i = 1; i <= c; i++) a[i] = all[s, r, i] + 0
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((c + 1) / 2)]
  }
  function has(s, r) { return ((s, r) in v) }
  function cell(s, r) { return has(s, r) ? sprintf("%.0f", v[s, r]) : "-" }
  # "figure with 8 connections -> saturated figure at C connections (+last gain%)" for system s.
  function saturated(s, base, sat) {
    if (!has(s, sat "_saturated_ops")) return "-"
    return sprintf("%s -> %.0f at %.0f (%+.0f%%)", cell(s, base "_ops"), v[s, sat "_saturated_ops"],
                   v[s, sat "_saturated_connections"], v[s, sat "_last_gain_pct"])
  }
  function ratio(r, peer) {
    if (!has("park", r) || !has(peer, r) || v[peer, r] + 0 == 0) return "-"
    return sprintf("%.2f", v["park", r] / v[peer, r])
  }
  # kind: "more" = at least `factor` x each peer; "less" = below each peer;
  # "expiry" = within 10% of 2000 ms; "zero" = 0 for every system; "" = no target.
  function verdict(r, kind, factor,   ok, p, peers, n, i) {
    if (kind == "") return ""
    if (kind == "expiry") {
      if (!has("park", r)) return "-"
      return (v["park", r] >= 1800 && v["park", r] <= 2200) ? "met" : "missed"
    }
    if (kind == "zero") {
      ok = 1
      for (p in seen) if (!has(p, r) || v[p, r] + 0 != 0) ok = 0
      return ok ? "met (all 0)" : "missed"
    }
    if (!has("park", r)) return "-"
    ok = 1; n = 0
    split("zookeeper etcd", peers, " ")
    for (i = 1; i <= 2; i++) {
      p = peers[i]
      if (!has(p, r)) continue
      n++
      if (kind == "more" && v["park", r] < factor * v[p, r]) ok = 0
      if (kind == "less" && v["park", r] >= v[p, r]) ok = 0
    }
    if (n == 0) return "-"
    return ok ? "met" : "missed"
  }
  function row(label, r, kind, factor, goal) {
    if (!has("park", r) && !has("zookeeper", r) && !has("etcd", r)) return  # a workload not run
    printf "| %s | %s | %s | %s | %s | %s | %s %s |\n", label, cell("park", r), cell("zookeeper", r), cell("etcd", r),
           ratio(r, "zookeeper"), ratio(r, "etcd"), goal, verdict(r, kind, factor)
  }
  END {
    for (key in rows) { split(key, part, SUBSEP); v[part[1], part[2]] = median_of(part[1], part[2]) }
    if (rounds > 1) { print "Each figure is the median of " rounds " rounds."; print "" }
    print "| workload | park | ZooKeeper | etcd | park/ZK | park/etcd | target |"
    print "|---|---:|---:|---:|---:|---:|---|"
    row("(a) writes, 64 in flight: ops/s", "a_write_ops", "more", 2, ">= 2x:")
    row("(a) writes: p50 us", "a_write_p50_us", "", 0, "")
    row("(a) writes: p99 us", "a_write_p99_us", "", 0, "")
    row("(b) linearizable reads: ops/s", "b_read_linearizable_ops", "more", 2, ">= 2x:")
    row("(b) linearizable reads: p50 us", "b_read_linearizable_p50_us", "", 0, "")
    row("(b) linearizable reads: p99 us", "b_read_linearizable_p99_us", "", 0, "")
    row("(b) stale/serializable reads: ops/s", "b_read_stale_ops", "more", 2, ">= 2x:")
    row("(b) stale/serializable reads: p99 us", "b_read_stale_p99_us", "", 0, "")
    row("(c) one client, sequential writes: p50 us", "c_seq_write_p50_us", "", 0, "")
    row("(c) one client, sequential writes: p99 us", "c_seq_write_p99_us", "less", 0, "lower:")
    row("(d) watch notification: p50 us", "d_watch_p50_us", "", 0, "")
    row("(d) watch notification: p99 us", "d_watch_p99_us", "less", 0, "lower:")
    row("(e) expiry after SIGKILL, 2000 ms timeout: median ms", "e_expiry_median_ms", "expiry", 0, "1800-2200:")
    row("(f) fair lock handoffs/s, 8 clients", "f_lock_handoffs_per_s", "more", 2, ">= 2x:")
    row("(f) one handoff (unlock started -> next lock held): p50 us", "f_handoff_p50_us", "", 0, "")
    row("(f) one handoff: p99 us", "f_handoff_p99_us", "", 0, "")
    row("(h) election failover, kill -9 of the leader -> standby leads, 2000 ms session: median ms", "h_election_failover_median_ms", "", 0, "")
    row("(g) failover, kill -9 leader -> first ack: median ms", "g_failover_median_ms", "less", 0, "lower:")
    row("(g) failover: worst ms", "g_failover_max_ms", "", 0, "")
    row("(g) acknowledged writes during failovers", "g_acknowledged_writes", "", 0, "")
    row("(g) acknowledged writes lost", "g_lost_writes", "zero", 0, "0:")
    print ""
    print "Ratios are park / peer: above 1 is better for throughput, below 1 for latency."
    split("a_write b_read_linearizable b_read_stale", names, " ")
    split("writes;linearizable reads;stale/serializable reads", labels, ";")
    split("park zookeeper etcd", systems, " ")
    saturation = 0
    for (i = 1; i <= 3; i++) for (j = 1; j <= 3; j++) saturation += has(systems[j], "s" substr(names[i], 2) "_saturated_ops")
    if (saturation) {
      print ""
      print "Saturation, workload (s): each throughput row again with the client connections doubled"
      print "(8 in flight on each, as above) until a doubling gains less than 10%, at most 64"
      print "connections. The last figure is one more clients no longer raise:"
      print ""
      print "| row | park | ZooKeeper | etcd |"
      print "|---|---:|---:|---:|"
      for (i = 1; i <= 3; i++) {
        printf "| %s: ops/s with 8 connections -> where doubling stops gaining (last gain) |", labels[i]
        for (j = 1; j <= 3; j++) printf " %s |", saturated(systems[j], names[i], "s" substr(names[i], 2))
        printf "\n"
      }
    }
    measured = 0
    for (i = 1; i <= 3; i++) for (j = 1; j <= 3; j++) measured += has(systems[j], names[i] "_client_cpu_pct")
    if (!measured) exit  # no throughput rows in this run
    print ""
    print "CPU during the throughput rows, in % of one core of the " cores ": the load generator"
    print "(peer_bench itself), the three servers (/proc/PID/stat), and every other process of the"
    print "machine (busy time of /proc/stat less those two: noise from outside the benchmark):"
    print ""
    print "| system | row | load generator | servers | others |"
    print "|---|---|---:|---:|---:|"
    split("a_write b_read_linearizable b_read_stale s_write_saturated s_read_linearizable_saturated s_read_stale_saturated", cpu_rows, " ")
    for (j = 1; j <= 3; j++) for (i = 1; i <= 6; i++) {
      if (!has(systems[j], cpu_rows[i] "_client_cpu_pct")) continue
      printf "| %s | %s | %s | %s | %s |\n", systems[j], cpu_rows[i], cell(systems[j], cpu_rows[i] "_client_cpu_pct"),
             cell(systems[j], cpu_rows[i] "_servers_cpu_pct"), cell(systems[j], cpu_rows[i] "_others_cpu_pct")
    }
  }
'
