#!/usr/bin/env bash
# What 0031's indexes cost the hot path (docs/BENCHMARKS.md "0031: time, completed and scheduled"):
# scripts/bench's index_cost by hand (search-enqueue.pgbench, then claim_complete.pgbench at batch
# 100 with 2 clients, JOBS jobs) without and with each of 0031's indexes, the sets rotating order
# each round. Prints one line per round and set; take medians.
#   scripts/bench.d/search-cost-0031.sh URL [ROUNDS] [JOBS]   (URL: a migrated database it may empty)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
U=$1; ROUNDS=${2:-5}; N=${3:-30000}
DRIFT="CREATE INDEX job_queue_time_late_id_idx ON job_queue (id) WHERE (created_at - to_timestamp(('x' || encode(substring(uuid_send(id) from 1 for 6), 'hex'))::bit(48)::bigint / 1000.0::float8)) BETWEEN interval '-1 minute' AND interval '-1 s'; CREATE INDEX job_queue_time_drift_id_idx ON job_queue (id) WHERE (created_at - to_timestamp(('x' || encode(substring(uuid_send(id) from 1 for 6), 'hex'))::bit(48)::bigint / 1000.0::float8)) NOT BETWEEN interval '-1 minute' AND interval '1 ms';"
COMPL="CREATE INDEX job_queue_completed_id_idx ON job_queue (id) WHERE status = 'completed';"
SCHED="CREATE INDEX job_queue_scheduled_id_idx ON job_queue (id) WHERE status = 'pending' AND attempt_count = 0 AND run_at > created_at;"
set_sql() { case $1 in none) ;; time) echo "$DRIFT" ;; completed) echo "$COMPL" ;; scheduled) echo "$SCHED" ;; all) echo "$DRIFT $COMPL $SCHED" ;; esac; }
sets=(none time completed scheduled all)
DROP="job_queue_time_late_id_idx, job_queue_time_drift_id_idx, job_queue_completed_id_idx, job_queue_scheduled_id_idx"
source scripts/bench.d/index-cost-rounds.sh
index_cost_rounds
