#!/usr/bin/env bash
# What 0033's indexes cost the hot path (docs/BENCHMARKS.md "0033: pending and retrying"), and the
# candidate they were weighed against: scripts/bench's index_cost by hand (search-enqueue.pgbench,
# then claim_complete.pgbench at batch 100 with 2 clients, JOBS jobs) with 0031's set alone
# ("none") and with each of these added, the sets rotating order each round. Prints one line per
# round and set; take medians.
#   scripts/bench.d/search-cost-0033.sh URL [ROUNDS] [JOBS]   (URL: a migrated database it may empty)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
U=$1; ROUNDS=${2:-5}; N=${3:-20000}
# 0033's two (the definitions of QueueStore/OnlineIndexes.swift), and the candidate: every pending job.
READY="CREATE INDEX job_queue_ready_id_idx ON job_queue (id) WHERE status = 'pending' AND attempt_count = 0 AND run_at <= created_at;"
DEFER="CREATE INDEX job_queue_deferred_run_at_idx ON job_queue (((attempt_count > 0)::int), run_at, id) WHERE status = 'pending' AND (attempt_count > 0 OR run_at > created_at);"
PEND="CREATE INDEX bench_job_queue_pending_id_idx ON job_queue (id) WHERE status = 'pending';"
set_sql() { case $1 in none) ;; ready) echo "$READY" ;; deferred) echo "$DEFER" ;; both) echo "$READY $DEFER" ;; pending) echo "$PEND" ;; esac; }
sets=(none ready deferred both pending)
DROP="job_queue_ready_id_idx, job_queue_deferred_run_at_idx, bench_job_queue_pending_id_idx"
source scripts/bench.d/index-cost-rounds.sh
index_cost_rounds
